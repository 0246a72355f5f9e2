"""The deployment plan's git evidence: one step (`plan/history`) running `ci/scripts/release-history.py` in the app's
directory of the repository (git over the checkout, in a Python image with git in Dagger, with bayon's own Python
on the host), reporting the lockfile at the deployed release's commit and at the release's, and the commits between.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ci.core.step import PYTHON_IMAGE, Judgement, ReportError, Step, StepRun, python_tool

STEP_ID = "plan/history"
SCRIPT = "release-history.py"
REPORT = "release-history.json"
LOCKFILE = "package-lock.json"


def step(head: str, base: str | None) -> Step:
    """The history from `base` (the deployed release's commit; None on a first deploy) to `head`."""
    argv = ("python3", "{tools}/" + SCRIPT, "--head", head, *(("--base", base) if base else ()),
            "--lockfile", LOCKFILE, "--output", "{reports}/" + REPORT)
    return Step(id=STEP_ID, tool="git", argv=argv, judge=judge, outputs=(REPORT,), tools=(SCRIPT,),
                tool_image=PYTHON_IMAGE, tool_install=python_tool(), in_repo=True, finding_codes=frozenset(),
                timeout_s=120)


@dataclass(frozen=True)
class History:
    base: str | None
    head: str
    before: str | None
    after: str | None
    commits: tuple[dict[str, str], ...]


def parse(report: bytes) -> History:
    try:
        data = json.loads(report)
        commits = tuple({"sha": c["sha"], "subject": c["subject"], "body": c["body"]} for c in data["commits"])
        return History(data["base"], data["head"], data["before"], data["after"], commits)
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"the history report is unreadable: {type(exc).__name__}: {exc}") from exc


def judge(run: StepRun) -> Judgement:
    """Passed with a report (git's refusals, exit 3, are crashes with the script's line: the scheduler's)."""
    report = run.files.get(REPORT)
    if report is None:
        raise ReportError(f"the history step wrote no report ({REPORT})")
    found = parse(report)
    span = f"{found.base[:12]}..{found.head[:12]}" if found.base else f"{found.head[:12]} (first deploy)"
    return Judgement("passed", (), f"{len(found.commits)} commit(s) in {span}")
