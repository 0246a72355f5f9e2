"""TypeScript: the `quality/typecheck` step and the judge parsing `tsc --pretty false` diagnostics.

`--incremental` records in its build info every file of the program with its version and what each imports, module
resolutions included, and checks again what any added, removed or changed file affects (verified: a file that then
resolves an import clears TS2307, its removal brings it back), so its cache is keyed by the dependencies only.
"""

from __future__ import annotations

import re

from ci.core.findings import finding, relative, verdict
from ci.core.report import Finding
from ci.core.step import Judgement, Needs, ReportError, Step, StepRun, tool_cache

ARGV = ("node_modules/.bin/tsc", "--noEmit", "--pretty", "false")
# --incremental keeps what it learnt in a cache volume, so an unchanged project is not checked again from scratch.
CACHE = ("--incremental", "--tsBuildInfoFile", ".bayon/cache/tsc/tsconfig.tsbuildinfo")
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


def step(node_major: int, caches: bool = True) -> Step:
    # tsc exits 2 instead of 1 when it also wrote a tsbuildinfo (incremental projects): both mean "diagnostics".
    return Step(
        id="quality/typecheck", tool="tsc", argv=(*ARGV, *(CACHE if caches else ())), node_major=node_major,
        finding_codes=frozenset({1, 2}), caches=(tool_cache("tsc", node_major),) if caches else (),
        package="typescript", judge=judge, timeout_s=300, needs=Needs("typescript", off_key="quality.typecheck"),
    )
