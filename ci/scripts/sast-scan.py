"""Semgrep OSS over the app with the pipeline's own rules, and over the base revision's copy of it with `--base`.

    python3 sast-scan.py --rules DIR [--rules-if-present PATH] --output DIR [--base REF]

Runs in the app's directory (the `security/sast` step, in both executors); imports only the standard library and
runs `semgrep` offline: local rule files only, `--metrics=off --disable-version-check`, rule ids as written. It
writes OUTPUT/semgrep.sarif, Semgrep's own SARIF with these changes:

- every result gets `partialFingerprints["bayonMatch/v1"]`: a hash of the rule, the file and the matched lines'
  text (whitespace collapsed), plus the occurrence number of that hash in the file, so a finding keeps its identity
  when lines move (what `--base` compares, and what code scanning matches alerts by);
- no code travels in the report (a hard-coded credential must not): snippets are dropped, and a notification (a file
  Semgrep could not parse) keeps only its first line, not the code it quotes;
- a notification gets the `locations` (file, line, column) of its error in Semgrep's JSON output, which has them;
- the "requires login" placeholders Semgrep writes for fingerprints without an account are dropped;
- the run's `properties["bayon/scanned"]` says how many files Semgrep analyzed and where (`files`; `path`, this
  directory relative to the repository root), counted from Semgrep's JSON output.
Semgrep's JSON output quotes code, so it is written to a temporary directory and deleted.

With `--base REF` the app's directory as it was at REF (`git archive`) is scanned with the same rules into
OUTPUT/semgrep-base.sarif; an app that did not exist at REF gives an empty run. Exits 0 with the files written, 3 with
a one-line message on a problem (semgrep missing or failing, a bad ref, a missing rules path).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

SEMGREP = ("semgrep", "scan", "--metrics=off", "--disable-version-check", "--quiet", "--no-rewrite-rule-ids")
GIT = ("git", "-c", "safe.directory=*")
FINGERPRINT = "bayonMatch/v1"
SCANNED = "bayon/scanned"
PLACEHOLDER = "requires login"
HEAD_SARIF, BASE_SARIF = "semgrep.sarif", "semgrep-base.sarif"


class Problem(Exception):
    """A one-line problem the user can fix; the scan exits 3 with it."""


def run(argv: list[str], cwd: str | None = None) -> bytes:
    try:
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise Problem(f"{argv[0]} is not installed; `bayon doctor` prints how to install it") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        command = " ".join(a for a in argv[:4] if not a.startswith("-") and "=" not in a)
        raise Problem(f"`{command}` exited with code {done.returncode}: {lines[-1] if lines else '(no output)'}")
    return done.stdout


def semgrep(configs: list[Path], target: str, sarif: Path, path: str) -> None:
    """Semgrep over `target` (its text output, which quotes code, discarded), SARIF to `sarif`, then rewritten;
    `path` is where `target` sits in the repository, for the scanned-files count. Its JSON output, read for the
    files it scanned and where each error is, goes to a temporary file."""
    with tempfile.TemporaryDirectory(prefix="sast-json-") as tmp:
        listing = Path(tmp) / "semgrep.json"
        run([*SEMGREP, *(arg for c in configs for arg in ("--config", str(c))), "--sarif-output", str(sarif),
             "--json-output", str(listing), "."], cwd=target)
        try:
            output = json.loads(listing.read_text())
            scanned = len(output["paths"]["scanned"])
        except (OSError, ValueError, KeyError, TypeError):
            raise Problem("Semgrep's JSON output does not list the files it scanned") from None
        spans = {e.get("message"): e for e in output.get("errors", [])}
    log = json.loads(sarif.read_text())
    for run_ in log.get("runs", []):
        run_.setdefault("properties", {})[SCANNED] = {"files": scanned, "path": path}
        fingerprint(run_.get("results", []), Path(target))
        for invocation in run_.get("invocations", []):
            for note in invocation.get("toolExecutionNotifications", []):
                text = note.get("message", {}).get("text", "")
                if text in spans and not note.get("locations"):
                    note["locations"] = error_locations(spans[text])
                note.setdefault("message", {})["text"] = (text.splitlines() or [""])[0].rstrip(":")
    sarif.write_text(json.dumps(log, indent=2) + "\n")


def error_locations(error: dict) -> list[dict]:
    """SARIF locations (file, start line and column) of a Semgrep JSON error, e.g. a file it could not parse: Semgrep's
    SARIF notifications carry the place only inside their message."""
    spans = error.get("spans") or ([{"file": error["path"]}] if error.get("path") else [])
    return [{"physicalLocation": {"artifactLocation": {"uri": span["file"]},
                                  **({"region": {"startLine": span["start"]["line"],
                                                 "startColumn": span["start"]["col"]}} if "start" in span else {})}}
            for span in spans if span.get("file")]


def match_text(result: dict, root: Path) -> str:
    """The matched lines (whole lines, whitespace collapsed): Semgrep's snippet, else read from the file."""
    location = (result.get("locations") or [{}])[0].get("physicalLocation", {})
    region = location.get("region", {})
    text = region.get("snippet", {}).get("text")
    if text is None:
        path = root / location.get("artifactLocation", {}).get("uri", "")
        lines = path.read_text(errors="replace").splitlines() if path.is_file() else []
        text = "\n".join(lines[region.get("startLine", 1) - 1:region.get("endLine", region.get("startLine", 1))])
    return " ".join(text.split())


def fingerprint(results: list[dict], root: Path) -> None:
    """Set each result's line-content fingerprint; drop snippets and placeholder fingerprints."""
    seen: Counter[str] = Counter()
    for result in results:
        uri = (result.get("locations") or [{}])[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
        text = "\0".join([result.get("ruleId", ""), uri or "", match_text(result, root)])
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        seen[digest] += 1
        result.setdefault("partialFingerprints", {})[FINGERPRINT] = f"{digest}:{seen[digest]}"
        prints = {k: v for k, v in result.get("fingerprints", {}).items() if v != PLACEHOLDER}
        if prints:
            result["fingerprints"] = prints
        else:
            result.pop("fingerprints", None)
        for location in result.get("locations", []):
            location.get("physicalLocation", {}).get("region", {}).pop("snippet", None)


def repo_path() -> str:
    """Where this directory sits in its git repository ("." at the root, or outside any repository)."""
    try:
        return run([*GIT, "rev-parse", "--show-prefix"]).decode().strip().rstrip("/") or "."
    except Problem:
        return "."


def base_tree(base: str, dest: Path) -> bool:
    """Extract this directory as it was at `base` into `dest`; False when it did not exist there."""
    if base.startswith("-"):
        raise Problem(f"--base {base}: not a git revision; pass a branch, tag or commit")
    try:
        sha = run([*GIT, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}"]).decode().strip()
    except Problem:
        raise Problem(f"--base {base}: no such commit in this repository; fetch the whole history "
                      "(`fetch-depth: 0` on actions/checkout)") from None
    prefix = run([*GIT, "rev-parse", "--show-prefix"]).decode().strip().rstrip("/")
    if subprocess.run([*GIT, "cat-file", "-e", f"{sha}:{prefix}"], capture_output=True).returncode != 0:
        return False
    top = run([*GIT, "rev-parse", "--show-toplevel"]).decode().strip()
    archive = run([*GIT, "archive", "--format=tar", f"{sha}:{prefix}"], cwd=top)  # archive limits to the cwd
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return True


def empty_log(head: Path) -> dict:
    """A SARIF log with the head's tool and no results: the base of an app that did not exist at REF."""
    log = json.loads(head.read_text())
    for run_ in log.get("runs", []):
        run_["results"] = []
    return log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", action="append", default=[], help="a rules file or directory (repeat)")
    parser.add_argument("--rules-if-present", action="append", default=[], help="rules used when the path exists")
    parser.add_argument("--output", required=True, help="the directory to write the SARIF files to")
    parser.add_argument("--base", default="", help="also scan this revision's copy of the app")
    args = parser.parse_args(argv)
    out = Path(args.output).resolve()
    try:
        missing = [r for r in args.rules if not Path(r).exists()]
        if missing:
            raise Problem(f"rules {missing[0]}: no such file or directory")
        configs = [Path(r).resolve() for r in args.rules + [r for r in args.rules_if_present if Path(r).exists()]]
        path = repo_path()
        semgrep(configs, ".", out / HEAD_SARIF, path)
        if args.base:
            with tempfile.TemporaryDirectory(prefix="sast-base-") as tmp:
                if base_tree(args.base, Path(tmp)):
                    semgrep(configs, tmp, out / BASE_SARIF, f"{path} at {args.base}")
                else:
                    (out / BASE_SARIF).write_text(json.dumps(empty_log(out / HEAD_SARIF), indent=2) + "\n")
    except Problem as exc:
        print(f"sast-scan: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
