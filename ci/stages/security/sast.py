"""Static analysis: `security/sast`, Semgrep OSS with the rules kept in this repository, offline.

`ci/scripts/sast-scan.py` runs Semgrep in the app's directory with the pipeline's rules (`ci/scripts/semgrep/`) and
the app's own (`security.sast.rules`, used when that path exists), and writes Semgrep's SARIF, each result carrying a
line-content fingerprint. The judge turns results into findings (rule, severity, file, line); with `--base REF` it
keeps only those new against REF's copy of the app, compared by fingerprint (rule, file and the matched lines' text),
never by line number, so moved code is not new. An error-level finding fails the gate; warnings and notes do not.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

from ci.stages.setup.changes import scan_base
from ci.config import Config
from ci.core.executor import TOOLS_DIR
from ci.core.findings import finding, no_files, verdict
from ci.core.report import Finding, Severity
from ci.core.step import PYTHON_IMAGE, Judgement, ReportError, Step, StepRun, python_tool

STEP_ID = "security/sast"
TOOL = "semgrep"
SCRIPT = "sast-scan.py"
RULES = "semgrep"
REPORT, BASE_REPORT = "semgrep.sarif", "semgrep-base.sarif"
SEMGREP = "semgrep==1.185.0"
FINGERPRINT = "bayonMatch/v1"
SCANNED = "bayon/scanned"
"""The run property the scan script writes: `{"files": <how many Semgrep analyzed>, "path": <where>}`."""
LEVELS: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "info", "none": "info"}


def rule_files() -> tuple[str, ...]:
    """The pipeline's rule files, as `tools` names (`semgrep/<file>`), in a stable order."""
    return tuple(sorted(p.relative_to(TOOLS_DIR).as_posix() for p in (TOOLS_DIR / RULES).glob("*.yaml")))


def steps(config: Config, base: str = "") -> list[Step]:
    """Semgrep over the app, and with `base` over REF's copy of it too."""
    ref = scan_base(base)
    argv = ("python3", "{tools}/" + SCRIPT, "--rules", "{tools}/" + RULES,
            "--rules-if-present", config.security.sast.rules, "--output", "{reports}",
            *(("--base", ref) if ref else ()))
    return [Step(id=STEP_ID, tool=TOOL, argv=argv, judge=functools.partial(judge, base=ref),
                 outputs=(REPORT, BASE_REPORT) if ref else (REPORT,), tools=(SCRIPT, *rule_files()),
                 tool_image=PYTHON_IMAGE, tool_install=python_tool(SEMGREP), in_repo=True,
                 finding_codes=frozenset(), timeout_s=900)]


def load(data: bytes | None, name: str) -> dict[str, Any]:
    """A SARIF log's one run (Semgrep writes one), or ReportError."""
    if data is None:
        raise ReportError(f"Semgrep wrote no report ({name})")
    try:
        (run,) = json.loads(data)["runs"]
        return run
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"Semgrep's SARIF report {name} is unreadable: {type(exc).__name__}: {exc}") from exc


def fingerprints(run: dict[str, Any]) -> set[str]:
    return {r.get("partialFingerprints", {}).get(FINGERPRINT, "") for r in run.get("results", [])}


def results(run: dict[str, Any]) -> Iterator[Finding]:
    """Each SARIF result as a finding; its severity is the result's level, else its rule's default level."""
    defaults = {rule["id"]: rule.get("defaultConfiguration", {}).get("level", "warning")
                for rule in run.get("tool", {}).get("driver", {}).get("rules", [])}
    for result in run.get("results", []):
        location = (result.get("locations") or [{}])[0].get("physicalLocation", {})
        region = location.get("region", {})
        rule = result.get("ruleId", "semgrep")
        level = result.get("level") or defaults.get(rule, "warning")
        yield finding(rule, LEVELS.get(level, "warning"), location.get("artifactLocation", {}).get("uri"),
                      region.get("startLine"), region.get("startColumn"), result.get("message", {}).get("text", ""),
                      fingerprint=result.get("partialFingerprints", {}).get(FINGERPRINT))


def notifications(run: dict[str, Any]) -> Iterator[Finding]:
    """What Semgrep could not analyze (a file it could not parse), as warnings at the notification's first location."""
    for invocation in run.get("invocations", []):
        if invocation.get("executionSuccessful") is False:
            raise ReportError("Semgrep reports that its run did not succeed")
        for note in invocation.get("toolExecutionNotifications", []):
            rule = "semgrep/" + note.get("descriptor", {}).get("id", "notification").lower().replace(" ", "-")
            location = (note.get("locations") or [{}])[0].get("physicalLocation", {})
            region = location.get("region", {})
            yield finding(rule, "warning", location.get("artifactLocation", {}).get("uri"), region.get("startLine"),
                          region.get("startColumn"), note.get("message", {}).get("text", ""))


def scanned(run: dict[str, Any]) -> tuple[int, str]:
    """How many files Semgrep analyzed and where (the scan script's count), or ReportError: an unknown count is no
    pass."""
    counted = run.get("properties", {}).get(SCANNED)
    files = counted.get("files") if isinstance(counted, dict) else None
    if not isinstance(files, int) or isinstance(files, bool):
        raise ReportError(f"Semgrep's report does not say how many files it scanned ({REPORT})")
    return files, str(counted.get("path") or ".")


def judge(run: StepRun, base: str) -> Judgement:
    """Errors fail the gate, warnings and notes do not; a scan of no files fails (a wrong --source or --repo-path)."""
    head = load(run.files.get(REPORT), REPORT)
    notes = list(notifications(head))
    files, path = scanned(head)
    if files == 0:
        return Judgement("failed", tuple(notes), no_files(path))
    found = list(results(head))
    scope = ""
    if base:
        known = fingerprints(load(run.files.get(BASE_REPORT), BASE_REPORT))
        new = [f for f in found if f.extra["fingerprint"] not in known]
        scope = f"; {len(found) - len(new)} already in {base} not reported"
        found = new
    version = head.get("tool", {}).get("driver", {}).get("semanticVersion", "?")
    judgement = verdict([*found, *notes], max_warnings=None)
    new = " new" if base and found else ""
    return Judgement(judgement.status, judgement.findings, f"Semgrep {version}: {judgement.reason}{new}{scope}")
