"""What changed in the app between the deployed release's commit and the one to deploy, read from git.

    python3 release-history.py --head SHA [--base SHA] --lockfile package-lock.json --output REPORT.json

Runs in the app's directory inside its git checkout (the deployment plan's `plan/history` step, in both executors),
and imports only the standard library, so it runs the same on the host and in a plain Python image with git.

The report holds the lockfile's text at both commits (null where the commit has none; `before` null without
--base: a first deploy) and every commit of `BASE..HEAD` that touched this directory: its SHA, subject and body (the
deployment plan reads conventional commits from them). Exits 0 with the report written, 3 with a one-line message
on a problem (an unknown commit, a shallow clone).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

GIT = ("git", "-c", "safe.directory=*", "-c", "core.quotePath=false")
"""A mounted checkout may belong to another user; paths come unquoted."""
FETCH_HINT = "fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` on actions/checkout)"
MAX_COMMITS = 1000
RECORD, FIELD = "\x1e", "\x1f"


class Refused(Exception):
    """A one-line reason the history cannot be read."""


def git(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    done = subprocess.run([*GIT, *args], capture_output=True, text=True)
    if done.returncode not in ok:
        raise Refused(f"git {args[0]} failed: {(done.stderr.strip().splitlines() or ['no message'])[-1]}")
    return done


def commit_of(ref: str, what: str) -> str:
    done = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1))
    if done.returncode:
        shallow = git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        raise Refused(f"{what} {ref} is not in this repository" + (f" (a shallow clone: {FETCH_HINT})" if shallow
                                                                  else "; fetch it, or pass the right commit"))
    return done.stdout.strip()


def file_at(commit: str, path: str) -> str | None:
    """The file's text at the commit (`./` makes the path relative to this directory), None where it is absent."""
    done = git("show", f"{commit}:./{path}", ok=(0, 128))
    return done.stdout if done.returncode == 0 else None


def commits(base: str | None, head: str) -> list[dict[str, str]]:
    """The commits of base..head (all of head's without a base) touching this directory, newest first."""
    span = f"{base}..{head}" if base else head
    out = git("log", f"--max-count={MAX_COMMITS}", f"--format=%H{FIELD}%s{FIELD}%b{RECORD}", span, "--", ".").stdout
    found = []
    for record in out.split(RECORD):
        if record.strip():
            sha, subject, body = record.strip("\n").split(FIELD, 2)
            found.append({"sha": sha, "subject": subject, "body": body.strip()})
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", required=True)
    parser.add_argument("--base", default="")
    parser.add_argument("--lockfile", default="package-lock.json")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    try:
        head = commit_of(args.head, "the release's commit")
        base = commit_of(args.base, "the deployed release's commit") if args.base else None
        report = {"base": base, "head": head, "lockfile": args.lockfile,
                  "before": file_at(base, args.lockfile) if base else None, "after": file_at(head, args.lockfile),
                  "commits": commits(base, head) if base else []}
    except Refused as exc:
        print(exc, file=sys.stderr)
        return 3
    Path(args.output).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
