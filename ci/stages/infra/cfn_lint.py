"""cfn-lint on each SAM/CloudFormation template: `infra/cfn-lint/<template>`, one process per template.

One process each, because cfn-lint stops the whole run on some templates: one whose `Metadata: cfn-lint: config:
regions` names a region cfn-lint does not know exits 32 without writing any report, losing every other template's
findings with it. Run apart, that template is `crashed` and the others are still judged.

The region comes from `infra.region` through `AWS_DEFAULT_REGION`, cfn-lint's own default, so a template that sets
its regions in its metadata keeps them. Besides cfn-lint's default rules, its informational I3011 (stateful resources
need a DeletionPolicy and UpdateReplacePolicy) counts as a warning, and the pipeline's rule W9011
(`ci/scripts/cfn-lint-rules`) adds what I3011 leaves out. The step prints `cfn-lint --version` before linting, so
both executors report the version that ran.
"""

from __future__ import annotations

import json
from typing import Any

from ci.config import Config
from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding, Severity
from ci.core.step import PYTHON_IMAGE, Judgement, ReportError, Step, StepRun, python_tool

PREFIX = "infra/cfn-lint/"
TOOL = "cfn-lint"
CFN_LINT = "cfn-lint==1.58.0"
REPORT = "cfn-lint.json"
RULES = "cfn-lint-rules"
RULE_FILES = (f"{RULES}/stateful_kept.py",)
STATEFUL_RULES = ("I3011",)
"""cfn-lint's informational rules that count as warnings here (a stateful resource that deletes its data)."""
LEVELS: dict[str, Severity] = {"Error": "error", "Warning": "warning", "Informational": "info"}
BITS = {"Error": 2, "Warning": 4, "Informational": 8}
"""cfn-lint's exit code is a bitmask of the levels it found; any other code (32: it could not run) is a crash."""
SCRIPT = ('cfn-lint --version && exec cfn-lint --format json --output-file "$1/' + REPORT + '" '
          '--include-checks ' + " ".join(STATEFUL_RULES) + ' --append-rules "$2" -- "$3"')


def step_id(template: str) -> str:
    """The step of one template: its path relative to the app after the prefix (`infra/cfn-lint/backend/template.yaml`)."""
    return PREFIX + template


def steps(config: Config, templates: list[str]) -> list[Step]:
    """One cfn-lint step per template, in a Python image with cfn-lint pinned (locally bayon's own cfn-lint)."""
    return [Step(id=step_id(template), tool=TOOL, judge=judge, outputs=(REPORT,), tools=RULE_FILES,
                 argv=("sh", "-c", SCRIPT, TOOL, "{reports}", "{tools}/" + RULES, template),
                 env={"AWS_DEFAULT_REGION": config.infra.region, "PYTHONDONTWRITEBYTECODE": "1"},
                 tool_image=PYTHON_IMAGE, tool_install=python_tool(CFN_LINT),
                 finding_codes=frozenset(range(2, 16, 2)), timeout_s=300)
            for template in templates]


def version(stdout: str) -> str | None:
    """The version `cfn-lint --version` printed (`cfn-lint 1.58.0`), or None."""
    words = stdout.strip().splitlines()[0].split() if stdout.strip() else []
    return words[1] if len(words) == 2 and words[0] == TOOL else None


def load(data: bytes | None) -> list[dict[str, Any]]:
    """cfn-lint's JSON report (a list of matches), or ReportError."""
    if data is None:
        raise ReportError(f"cfn-lint wrote no report ({REPORT})")
    try:
        matches = json.loads(data)
    except ValueError as exc:
        raise ReportError(f"cfn-lint's report {REPORT} is unreadable: {exc}") from exc
    if not isinstance(matches, list) or not all(isinstance(m, dict) for m in matches):
        raise ReportError(f"cfn-lint's report {REPORT} is not a list of matches")
    return matches


def to_finding(match: dict[str, Any], root: str) -> Finding:
    """One match: rule id, severity (I3011's as a warning), file relative to the app, line and column, message."""
    try:
        rule, level = match["Rule"]["Id"], match["Level"]
        start = (match.get("Location") or {}).get("Start") or {}
        severity = "warning" if rule in STATEFUL_RULES else LEVELS[level]
        return finding(rule, severity, relative(match["Filename"], root), start.get("LineNumber"),
                       start.get("ColumnNumber"), str(match.get("Message", "")))
    except (KeyError, TypeError) as exc:
        raise ReportError(f"cfn-lint's report {REPORT} holds a match without {exc}") from exc


def judge(run: StepRun) -> Judgement:
    """Errors fail; warnings (stateful resources that would lose their data among them) do not. A report that does
    not match the exit code's levels was not written by this run: crashed."""
    matches = load(run.files.get(REPORT))
    found = [to_finding(m, run.root) for m in matches]
    levels = 0
    for match in matches:
        levels |= BITS.get(match["Level"], 0)
    if levels != run.exit_code:
        raise ReportError(f"cfn-lint exited with code {run.exit_code}, but its report's levels make {levels}")
    tool_version = version(run.stdout)
    judgement = verdict(found, max_warnings=None)
    return Judgement(judgement.status, judgement.findings, f"cfn-lint {tool_version or '?'}: {judgement.reason}",
                     tool_version=tool_version)
