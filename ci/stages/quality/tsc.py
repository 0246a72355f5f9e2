"""TypeScript: the `quality/typecheck` step and the judge parsing `tsc --pretty false` diagnostics."""

from __future__ import annotations

import re

from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding
from ci.core.step import Judgement, Needs, ReportError, Step, StepRun, tool_cache

# --incremental keeps what it learnt in a cache volume, so an unchanged project is not checked again from scratch.
ARGV = ("node_modules/.bin/tsc", "--noEmit", "--pretty", "false", "--incremental",
        "--tsBuildInfoFile", ".bayon/cache/tsc/tsconfig.tsbuildinfo")
LOCATED = re.compile(r"^(?P<file>.+?)\((?P<line>\d+),(?P<col>\d+)\): (?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$")
GLOBAL = re.compile(r"^(?P<sev>error|warning) (?P<code>TS\d+): (?P<msg>.*)$")


def parse(output: str, root: str) -> list[Finding]:
    """Diagnostics from tsc's line format; indented lines continue the previous diagnostic's message."""
    found: list[Finding] = []
    for line in output.splitlines():
        if m := LOCATED.match(line):
            found.append(finding(m["code"], m["sev"], relative(m["file"], root), int(m["line"]), int(m["col"]), m["msg"]))
        elif m := GLOBAL.match(line):
            found.append(finding(m["code"], m["sev"], None, None, None, m["msg"]))
        elif line.startswith(" ") and found and line.strip():
            last = found.pop()
            found.append(finding(last.rule, last.severity, last.file, last.line, last.column,
                                 f"{last.message}\n{line.strip()}"))
    return found


def judge(run: StepRun) -> Judgement:
    found = parse(run.stdout, run.root)
    if run.exit_code != 0 and not found:
        raise ReportError(f"tsc exited with code {run.exit_code} but printed no diagnostics")
    return verdict(found)


def step(node_major: int) -> Step:
    # tsc exits 2 instead of 1 when it also wrote a tsbuildinfo (incremental projects): both mean "diagnostics".
    return Step(
        id="quality/typecheck", tool="tsc", argv=ARGV, node_major=node_major, finding_codes=frozenset({1, 2}),
        caches=(tool_cache("tsc", node_major),),
        package="typescript", judge=judge, timeout_s=300, needs=Needs("typescript", off_key="quality.typecheck"),
    )
