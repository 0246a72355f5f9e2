"""ESLint: the `quality/lint` step, its fixer, and the judge reading ESLint's JSON report."""

from __future__ import annotations

import functools
import json

from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding
from ci.core.step import Judgement, Needs, ReportError, Step, StepRun, tool_cache

REPORT = "eslint.json"
BIN = "node_modules/.bin/eslint"
CACHE = ("--cache", "--cache-strategy", "content", "--cache-location", ".bayon/cache/eslint/")
ARGV = (BIN, ".", "--format", "json", "--output-file", "{reports}/" + REPORT, *CACHE)


def parse(report: bytes, root: str) -> list[Finding]:
    """Findings from ESLint's `--format json` output (severity 2 = error, 1 = warning)."""
    try:
        files = json.loads(report)
    except ValueError as exc:
        raise ReportError(f"ESLint's JSON report is unreadable: {exc}") from exc
    if not isinstance(files, list):
        raise ReportError("ESLint's JSON report is not a list of file results")
    found = []
    for result in files:
        path = relative(result["filePath"], root)
        for msg in result.get("messages", []):
            rule = msg.get("ruleId") or ("eslint/parse-error" if msg.get("fatal") else "eslint")
            severity = "error" if msg.get("severity") == 2 else "warning"
            found.append(finding(rule, severity, path, msg.get("line"), msg.get("column"), msg.get("message", "")))
    return found


def judge(run: StepRun, max_warnings: int) -> Judgement:
    report = run.files.get(REPORT)
    if report is None:
        raise ReportError(f"ESLint wrote no report ({REPORT})")
    found = parse(report, run.root)
    if run.exit_code == 1 and not any(f.severity == "error" for f in found):
        raise ReportError("ESLint exited with code 1 but its report lists no errors")
    return verdict(found, max_warnings)


def step(node_major: int, max_warnings: int) -> Step:
    return Step(
        id="quality/lint", tool="eslint", argv=ARGV, node_major=node_major, outputs=(REPORT,), package="eslint",
        caches=(tool_cache("eslint", node_major),), needs=Needs("eslint", off_key="quality.lint"),
        judge=functools.partial(judge, max_warnings=max_warnings), timeout_s=300,
    )


def fix_step(node_major: int, max_warnings: int) -> Step:
    """`eslint --fix`: rewrites what it can; what it cannot fix is still judged."""
    return Step(
        id="quality/lint-fix", tool="eslint", argv=(*ARGV, "--fix"), node_major=node_major, outputs=(REPORT,),
        caches=(tool_cache("eslint", node_major),),
        package="eslint", judge=functools.partial(judge, max_warnings=max_warnings), timeout_s=300,
        writes_source=True, needs=Needs("eslint"),
    )
