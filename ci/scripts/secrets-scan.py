"""Secrets in the working tree and the git history, found with detect-secrets; a secret's value is never written.

    python3 secrets-scan.py --output REPORT.json [--baseline FILE] [--base REF]

Runs in the app's directory inside its git checkout (the `security/secrets` step, in both executors), and imports
only the standard library and detect-secrets, so it runs the same on the host and in a plain Python image.

- The tree: every file git tracks or would track under this directory (`git ls-files --cached --others
  --exclude-standard`), each scanned as detect-secrets scans a file.
- The history: the lines each commit added under this directory, in `REF..HEAD` with `--base`, else in every commit
  reachable from HEAD. A shallow clone is refused: its history is incomplete, and a partial scan is no pass.

The report says how many files of the tree it scanned and where (`files`; `path`, this directory relative to the
repository root), and lists each secret once per file: its rule (detect-secrets' type), file (relative to this
directory), line, the commit that added it (the oldest in the range; none when the range never added it), whether it
is still in the tree and detect-secrets' `hashed_secret` (SHA-1); no part of the value. A secret whose hash the
baseline (detect-secrets' own format) lists is accepted: counted, not listed. Exits 0 with the report written, 3 with
a one-line message on a
problem (a bad ref, a shallow clone, an unreadable baseline, detect-secrets missing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

GIT = ("git", "-c", "safe.directory=*", "-c", "core.quotePath=false")
"""A mounted checkout may belong to another user; paths come unquoted (non-ASCII names stay readable)."""
INVALID_FILE_FILTER = "detect_secrets.filters.common.is_invalid_file"
"""detect-secrets drops files that do not exist on disk, which would drop every file the history deleted."""
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
FETCH_HINT = "fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` on actions/checkout)"


class Problem(Exception):
    """A one-line problem the user can fix; the scan exits 3 with it."""


def git(*args: str) -> str:
    done = subprocess.run([*GIT, *args], capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["(no output)"])[-1].removeprefix("fatal: ")
        raise Problem(f"git {args[0]}: {detail}")
    return done.stdout


def commit_range(base: str | None) -> list[str]:
    """The revisions `git log` walks: `BASE..HEAD`, or all of HEAD's history; refuses a shallow clone."""
    if git("rev-parse", "--is-shallow-repository").strip() == "true":
        raise Problem(f"this checkout is a shallow clone, so its history cannot be scanned in full; {FETCH_HINT}")
    if not base:
        return ["HEAD"]
    if base.startswith("-"):
        raise Problem(f"--base {base}: not a git revision; pass a branch, tag or commit")
    try:
        sha = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}").strip()
    except Problem:
        raise Problem(f"--base {base}: no such commit in this repository; {FETCH_HINT}") from None
    return [f"{sha}..HEAD"]


def added_lines(log: str) -> dict[str, dict[str, list[tuple[int, str]]]]:
    """`git log -p -U0` output (each commit introduced by NUL + sha) → commit → file → [(line number, text)]."""
    commits: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for chunk in log.split("\0")[1:]:
        sha, _, diff = chunk.partition("\n")
        files: dict[str, list[tuple[int, str]]] = {}
        path, line, in_hunk = None, 0, False
        for text in diff.split("\n"):
            if text.startswith("diff --git "):
                path, in_hunk = None, False
            elif not in_hunk and text.startswith("+++ "):
                path = _diff_path(text[4:])
            elif (hunk := HUNK.match(text)) is not None:
                line, in_hunk = int(hunk.group(1)), True
            elif in_hunk and path is not None and text.startswith("+"):
                files.setdefault(path, []).append((line, text[1:]))
                line += 1
        commits[sha.strip()] = files
    return commits


def _diff_path(name: str) -> str | None:
    """The new side's path of a diff header (`b/src/a.ts`; /dev/null for a deletion)."""
    name = _unquote(name)
    return None if name == "/dev/null" else name.removeprefix("b/")


def _unquote(name: str) -> str:
    """A path as git C-quotes one holding a quote, a backslash or a control character (`"b/a\\tb"`)."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    raw, i, body = bytearray(), 0, name[1:-1]
    while i < len(body):
        if body[i] == "\\" and body[i + 1:i + 4].isdigit():
            raw.append(int(body[i + 1:i + 4], 8))
            i += 4
        elif body[i] == "\\" and body[i + 1:i + 2] in C_ESCAPES:
            raw.append(C_ESCAPES[body[i + 1]])
            i += 2
        else:
            raw += body[i].encode()
            i += 1
    return raw.decode(errors="replace")


class Scanner:
    """detect-secrets with every plugin and its default filters, tree and history alike."""

    def __init__(self) -> None:
        try:
            from detect_secrets.core import scan
            from detect_secrets.settings import default_settings, get_filters, get_settings
        except ImportError:
            raise Problem("detect-secrets is not installed; `pip install detect-secrets==1.5.0` (see `bayon doctor`)") from None
        self.scan, self.get_filters, self.get_settings = scan, get_filters, get_settings
        self.settings = default_settings()

    def __enter__(self) -> Scanner:
        self.settings.__enter__()
        self.get_settings().disable_filters(INVALID_FILE_FILTER)  # moot for the tree, whose files exist
        self.get_filters.cache_clear()
        return self

    def __exit__(self, *exc: object) -> None:
        self.settings.__exit__(*exc)

    def file(self, path: str) -> list[tuple[str, int, str]]:
        """(rule, line, value) of each secret in a file of the tree."""
        return [(s.type, s.line_number, s.secret_value) for s in self.scan.scan_file(path)]

    def lines(self, path: str, lines: list[tuple[int, str]]) -> list[tuple[str, int, str]]:
        """(rule, line, value) of each secret in a file's added lines, the file existing or not.

        detect-secrets has no public call for lines without a file (its own diff scan needs the `unidiff` package and
        still drops deleted files), so this uses the line scanner its file and diff scans share.
        """
        if self.scan._is_filtered_out(required_filter_parameters=["filename"], filename=path):
            return []
        return [(s.type, s.line_number, s.secret_value) for s in self.scan._process_line_based_plugins(lines, path)]


def accepted_hashes(path: Path) -> tuple[set[str], bool]:
    """The `hashed_secret` values a detect-secrets baseline lists, and whether the file exists."""
    if not path.is_file():
        return set(), False
    try:
        results = json.loads(path.read_text())["results"]
        return {entry["hashed_secret"] for entries in results.values() for entry in entries}, True
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Problem(f"{path} is not a detect-secrets baseline ({type(exc).__name__}); regenerate it with "
                      f"`detect-secrets scan > {path}`") from None


def hashed(value: str) -> str:
    """detect-secrets' `hashed_secret`: the SHA-1 of the value."""
    return hashlib.sha1(value.encode()).hexdigest()


def scan(base: str | None, baseline: Path) -> dict:
    """Scan this directory's tree and history; the report as a dict (no secret values in it)."""
    accepted, has_baseline = accepted_hashes(baseline)
    revisions = commit_range(base)
    tree = [p for p in git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
            if p and Path(p).is_file() and not _is(p, baseline)]
    log = git("log", "-p", "-U0", "--relative", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames",
              "--format=%x00%H", *revisions, "--", ".")
    history = added_lines(log)
    found: dict[tuple[str, str, str], dict] = {}
    skipped = 0
    with Scanner() as scanner:
        for path in tree:
            for rule, line, value in scanner.file(path):
                found.setdefault((rule, path, hashed(value)), _entry(rule, path, line, value, in_tree=True))
        for sha, files in history.items():  # newest first: the last commit seen is the one that added it
            for path, lines in files.items():
                if _is(path, baseline):  # its hashes are no secrets
                    continue
                for rule, line, value in scanner.lines(path, lines):
                    entry = found.setdefault((rule, path, hashed(value)), _entry(rule, path, line, value, False))
                    entry["commit"] = sha
                    if not entry["in_tree"]:
                        entry["line"] = line
    findings = []
    for entry in found.values():
        if entry["hashed_secret"] in accepted:
            skipped += 1
        else:
            findings.append(entry)
    return {
        "tool": "detect-secrets",
        "version": _version(),
        "range": revisions[0],
        "commits": len(history),
        "files": len(tree),
        "path": git("rev-parse", "--show-prefix").strip().rstrip("/") or ".",
        "baseline": str(baseline) if has_baseline else None,
        "accepted": skipped,
        "findings": sorted(findings, key=lambda f: (f["file"], f["line"] or 0, f["rule"])),
    }


def _is(path: str, baseline: Path) -> bool:
    return Path(path).resolve() == baseline.resolve()


def _entry(rule: str, path: str, line: int, value: str, in_tree: bool) -> dict:
    return {"rule": rule, "file": path, "line": line, "commit": None, "in_tree": in_tree,
            "hashed_secret": hashed(value)}


def _version() -> str:
    from detect_secrets.__version__ import VERSION

    return VERSION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="where to write the JSON report")
    parser.add_argument("--baseline", default=".secrets.baseline", help="detect-secrets baseline of accepted secrets")
    parser.add_argument("--base", default="", help="scan only the commits after this revision (REF..HEAD)")
    args = parser.parse_args(argv)
    try:
        report = scan(args.base or None, Path(args.baseline))
    except Problem as exc:
        print(f"secrets-scan: {exc}", file=sys.stderr)
        return 3
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(f"secrets-scan: {len(report['findings'])} secret(s) in {report['files']} file(s) and "
          f"{report['commits']} commit(s) ({report['accepted']} accepted by the baseline)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
