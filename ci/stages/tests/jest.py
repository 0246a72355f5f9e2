"""Jest: one unit-test step per Node major (and shard), and the judge reading Jest's JSON results.

Every run writes its reports outside the source: `jest-results.json` (`--json`), `junit.xml` (the pipeline's own
reporter, `ci/scripts/junit-reporter.cjs`, so the app needs only `jest`) and the coverage data
(`coverage-final.json`, `coverage-summary.json`, and `cobertura-coverage.xml`, which also records the directory the
absolute paths of the others are under). A failed test becomes a finding at the line of its test file
where it failed, taken from the failure's stack. Jest holds a run to the app's own `coverageThreshold` (global, path
and glob groups); each threshold it reports unmet is a finding too. A shard alone is always partial, so a sharded run
turns them off (`SHARD_ARGS`) and the coverage gate judges the merged figures (`ci.stages.tests.unit`).
"""

from __future__ import annotations

import json
import re

from ci.core.findings import finding, relative
from ci.core.report import Finding
from ci.core.step import Judgement, Needs, ReportError, Step, StepRun

RESULTS = "jest-results.json"
JUNIT = "junit.xml"
COVERAGE = "coverage-final.json"
SUMMARY = "coverage-summary.json"
COBERTURA = "cobertura-coverage.xml"
OUTPUTS = (RESULTS, JUNIT, COVERAGE, SUMMARY, COBERTURA)
BIN = "node_modules/.bin/jest"
REPORTER = "junit-reporter.cjs"
REPORTERS = ("--reporters=default", f"--reporters={{tools}}/{REPORTER}")
ARGV = (
    BIN, "--ci", "--coverage",
    "--coverageReporters=json", "--coverageReporters=json-summary", "--coverageReporters=cobertura",
    "--coverageDirectory={reports}",
    "--json", "--outputFile={reports}/" + RESULTS, "--testLocationInResults", *REPORTERS,
)
SHARD_ARGS = ("--coverageThreshold={}",)
"""Before a shard's own arguments: a shard's coverage is partial, so no threshold of any group can hold on it."""
ENV = {"JEST_JUNIT_OUTPUT_DIR": "{reports}", "JEST_JUNIT_OUTPUT_NAME": JUNIT}
NEEDS = Needs("jest", off_key="tests.unit")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
THRESHOLD = re.compile(r"^Jest: (.*threshold.*|Coverage data for .* was not found\.)\s*$", re.M)
FAILED_TEST, SUITE_FAILED, NO_TESTS = "jest/failed-test", "jest/suite-failed", "jest/no-tests"
UNMET = "jest/coverage-threshold"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _line_in(text: str, paths: tuple[str, ...]) -> int | None:
    """The line of the first stack frame in `text` that points into the test file (given absolute or relative)."""
    alternatives = "|".join(re.escape(p) for p in paths)
    match = re.search(rf"(?:\(|at )(?:{alternatives}):(\d+):\d+", text)
    return int(match.group(1)) if match else None


def _block(message: str, name: str) -> str:
    """The part of a suite's failure message about one test (from its `● name` header to the next header)."""
    start = message.find(f"● {name}\n")
    return "" if start < 0 else message[start:].split("\n  ● ", 1)[0]


def _failed_test(test: dict, message: str, paths: tuple[str, ...], rel: str) -> Finding:
    name = test.get("fullName") or test.get("title") or "(unnamed test)"
    failure = ANSI.sub("", "\n".join(test.get("failureMessages") or []))
    location = test.get("location") or {}
    header = " › ".join([*test.get("ancestorTitles", []), test.get("title", "")])
    line = _line_in(failure, paths) or location.get("line") or _line_in(_block(message, header), paths)
    return finding(FAILED_TEST, "error", rel, line, None, f"{name}: {_first_line(failure) or 'failed'}", test=name)


def load(report: bytes) -> dict:
    """Jest's `--json` results as a dict; ReportError when they are unreadable."""
    try:
        results = json.loads(report)
    except ValueError as exc:
        raise ReportError(f"Jest's JSON results are unreadable: {exc}") from exc
    if not isinstance(results, dict) or not isinstance(results.get("testResults"), list):
        raise ReportError("Jest's JSON results have no testResults list")
    return results


def parse_results(report: bytes, root: str) -> list[Finding]:
    """One finding per failed test, and per test file that failed to run, from Jest's `--json` results."""
    found = []
    for suite in load(report)["testResults"]:
        rel = relative(suite.get("name", ""), root)
        paths = (suite.get("name", ""), rel)
        message = ANSI.sub("", suite.get("message") or "")
        failed = [t for t in suite.get("assertionResults", []) if t.get("status") == "failed"]
        found += [_failed_test(t, message, paths, rel) for t in failed]
        if suite.get("status") == "failed" and not failed:
            text = message.split("● Test suite failed to run", 1)[-1]
            found.append(finding(SUITE_FAILED, "error", rel, _line_in(text, paths), None,
                                 f"test suite failed to run: {_first_line(text) or 'see the Jest output'}"))
    return found


def unmet_thresholds(output: str, root: str) -> list[Finding]:
    """One finding per coverage threshold of the app's Jest config that Jest reports unmet (its own wording, with
    paths relative to the app)."""
    prefix = root.rstrip("/") + "/" if root else None
    messages = [m.group(1) for m in THRESHOLD.finditer(ANSI.sub("", output))]
    where = "(coverageThreshold in the app's Jest config)"
    return [finding(UNMET, "error", None, None, None, f"{message.replace(prefix, '') if prefix else message} {where}")
            for message in messages]


def summary(report: bytes) -> str:
    """The run in one line: tests passed and failed, and test files that failed to run."""
    r = load(report)
    text = f"{r.get('numPassedTests', 0)} of {r.get('numTotalTests', 0)} test(s) passed"
    text += f" in {r.get('numTotalTestSuites', 0)} file(s)"
    if r.get("numFailedTests"):
        text += f"; {r['numFailedTests']} failed"
    if r.get("numRuntimeErrorTestSuites"):
        text += f"; {r['numRuntimeErrorTestSuites']} file(s) failed to run"
    return text


def judge(run: StepRun) -> Judgement:
    """Failed on any failed test or test file; crashed when Jest left no results or JUnit report, or fails unexplained."""
    for name in (RESULTS, JUNIT):
        if run.files.get(name) is None:
            raise ReportError(f"Jest wrote no {name}")
    found = parse_results(run.files[RESULTS], run.root)
    unmet = unmet_thresholds(f"{run.stderr}\n{run.stdout}", run.root)
    if found or unmet:
        reason = summary(run.files[RESULTS]) + (f"; {len(unmet)} coverage threshold(s) not met" if unmet else "")
        return Judgement("failed", (*found, *unmet), reason)
    if run.exit_code != 0:
        if not load(run.files[RESULTS]).get("numTotalTestSuites"):
            return Judgement("failed", (finding(NO_TESTS, "error", None, None, None, "Jest found no tests"),),
                             "Jest found no tests")
        raise ReportError(f"Jest exited with code {run.exit_code} but its results list no failure")
    return Judgement("passed", (), summary(run.files[RESULTS]))


def step(step_id: str, node_major: int, shard_args: tuple[str, ...] = ()) -> Step:
    """Jest on one Node major (a matrix entry), optionally one shard of the tests (`shard_args`, after SHARD_ARGS)."""
    return Step(
        id=step_id, tool="jest", argv=(*ARGV, *(SHARD_ARGS if shard_args else ()), *shard_args), judge=judge,
        node_major=node_major, env=ENV, outputs=OUTPUTS, package="jest", tools=(REPORTER,), needs=NEEDS,
    )
