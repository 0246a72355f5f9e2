"""The secrets scan: `security/secrets`, detect-secrets over the working tree and the git history.

One scanner for both executors: `ci/scripts/secrets-scan.py` (detect-secrets used as a library) runs in the app's
directory of the git checkout, in a Python image in Dagger and with bayon's own Python on the host, and writes a JSON
report that never holds a secret's value. The judge here reads that report: every secret not accepted by the baseline
(`security.secrets.baseline`) is an error, so a new secret fails the gate whatever else passes.

With `--base REF` the history scanned is `REF..HEAD` (a pull request's commits); without it, every commit reachable
from HEAD (scheduled runs). A new branch's all-zero previous commit means no base.
"""

from __future__ import annotations

import json
from typing import Any

from ci.stages.setup.changes import scan_base
from ci.config import Config
from ci.core.findings import finding, no_files
from ci.core.report import Finding
from ci.core.step import PYTHON_IMAGE, Judgement, ReportError, Step, StepRun, python_tool

STEP_ID = "security/secrets"
SCRIPT = "secrets-scan.py"
REPORT = "secrets.json"
DETECT_SECRETS = "detect-secrets==1.5.0"
FIELDS = ("rule", "file", "line", "commit", "in_tree", "hashed_secret")
"""What the scan reports of a secret: where it is and its SHA-1, never any part of its value."""


def steps(config: Config, base: str = "") -> list[Step]:
    """The scan of the tree and of the history since `base` (all of it without one)."""
    ref = scan_base(base)
    argv = ("python3", "{tools}/" + SCRIPT, "--output", "{reports}/" + REPORT,
            "--baseline", config.security.secrets.baseline, *(("--base", ref) if ref else ()))
    return [Step(id=STEP_ID, tool="detect-secrets", argv=argv, judge=judge, outputs=(REPORT,), tools=(SCRIPT,),
                 tool_image=PYTHON_IMAGE, tool_install=python_tool(DETECT_SECRETS), in_repo=True,
                 finding_codes=frozenset(), timeout_s=900)]


def where(entry: dict[str, Any]) -> str:
    """Where a secret is, in words: in the tree (and since which commit), or only in the history."""
    commit = (entry["commit"] or "")[:12]
    if entry["in_tree"]:
        return f"in the working tree, added in commit {commit}" if commit else "in the working tree"
    return f"no longer in the tree, but in the history since commit {commit}: it stays readable there"


def parse(report: bytes) -> tuple[dict[str, Any], list[Finding]]:
    """The scan's report and one error finding per secret (rule, file, line, commit and hash; no part of the value)."""
    try:
        data = json.loads(report)
        entries = [{key: entry[key] for key in FIELDS} for entry in data["findings"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"the secrets scan's report is unreadable: {type(exc).__name__}: {exc}") from exc
    found = [finding(e["rule"], "error", e["file"], e["line"], None,
                     f"{e['rule']} {where(e)}; rotate it (a false positive goes into the baseline)",
                     **{k: e[k] for k in ("commit", "in_tree", "hashed_secret")})
             for e in entries]
    return data, found


def judge(run: StepRun) -> Judgement:
    """Every secret fails the gate; so does a scan of no files (a wrong --source or --repo-path), never a pass."""
    report = run.files.get(REPORT)
    if report is None:
        raise ReportError(f"the secrets scan wrote no report ({REPORT})")
    data, found = parse(report)
    files = data.get("files")
    if not isinstance(files, int) or isinstance(files, bool):
        raise ReportError(f"the secrets scan's report does not say how many files it scanned ({REPORT})")
    if files == 0:
        return Judgement("failed", tuple(found), no_files(data.get("path") or "."))
    baseline = f"{data.get('accepted', 0)} accepted by {data['baseline']}" if data.get("baseline") else "no baseline"
    scope = f"{files} file(s), {data.get('commits', '?')} commit(s) of {data.get('range', '?')}"
    summary = f"detect-secrets {data.get('version', '?')}: {len(found)} secret(s) in {scope}; {baseline}"
    return Judgement("failed" if found else "passed", tuple(found), summary)
