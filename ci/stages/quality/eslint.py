"""ESLint: the `quality/lint` step, its fixer, and the judge reading ESLint's JSON report.

ESLint's `--cache` keeps each file's result by that file's content and the config, not by the files a rule looked at
to judge it (`import/no-unresolved` resolving an import, `import/named` reading the imported module, type-aware rules
reading other files' types): a file that is added, removed, generated or changed elsewhere would leave a cached
result that an uncached run would not give. So the cache volume is also keyed by the source's exact content
(`tool_cache(..., per_source=True)`): it serves a run on the very source it was made from, and nothing else.
"""

from __future__ import annotations

import functools
import json

from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding
from ci.core.step import Cache, Judgement, Needs, ReportError, Step, StepRun, tool_cache

REPORT = "eslint.json"
BIN = "node_modules/.bin/eslint"
CACHE = ("--cache", "--cache-strategy", "content", "--cache-location", ".bayon/cache/eslint/")
ARGV = (BIN, ".", "--format", "json", "--output-file", "{reports}/" + REPORT)


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


def _cached(node_major: int, caches: bool) -> tuple[tuple[str, ...], tuple[Cache, ...]]:
    """The cache flags and the cache volume, or neither (`--no-cache`)."""
    return (CACHE, (tool_cache("eslint", node_major, per_source=True),)) if caches else ((), ())


def step(node_major: int, max_warnings: int, caches: bool = True) -> Step:
    flags, volumes = _cached(node_major, caches)
    return Step(
        id="quality/lint", tool="eslint", argv=(*ARGV, *flags), node_major=node_major, outputs=(REPORT,),
        package="eslint", caches=volumes, judge=functools.partial(judge, max_warnings=max_warnings), timeout_s=300,
        needs=Needs("eslint", off_key="quality.lint"),
    )


def fix_step(node_major: int, max_warnings: int, caches: bool = True) -> Step:
    """`eslint --fix`: rewrites what it can; what it cannot fix is still judged."""
    flags, volumes = _cached(node_major, caches)
    return Step(
        id="quality/lint-fix", tool="eslint", argv=(*ARGV, *flags, "--fix"), node_major=node_major,
        outputs=(REPORT,), caches=volumes, package="eslint",
        judge=functools.partial(judge, max_warnings=max_warnings), timeout_s=300, writes_source=True,
        needs=Needs("eslint"),
    )
