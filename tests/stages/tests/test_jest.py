"""Jest's JSON results parser and the unit-test judge, on real captured output (tests/fixtures/jest)."""

from __future__ import annotations

import json

import pytest
from apps import FIXTURES

from ci.stages.tests import jest
from ci.core.step import ReportError, StepRun

ROOT = "/src"  # where the Dagger executor runs steps; the fixture's <ROOT> is replaced by it
UNIT = (FIXTURES / "jest" / "unit-failures.json").read_text().replace("<ROOT>", ROOT).encode()
JUNIT = b'<testsuites name="jest tests"/>'


def run(results: bytes | None = UNIT, junit: bytes | None = JUNIT, exit_code: int = 1) -> StepRun:
    return StepRun(exit_code=exit_code, files={jest.RESULTS: results, jest.JUNIT: junit}, root=ROOT)


def passing(total: int = 3) -> bytes:
    return json.dumps({"numTotalTests": total, "numPassedTests": total, "numTotalTestSuites": 1,
                       "testResults": [{"name": f"{ROOT}/__tests__/a.test.ts", "status": "passed",
                                        "message": "", "assertionResults": []}]}).encode()


def test_failed_tests_are_findings_at_the_line_where_they_failed():
    found = jest.parse_results(UNIT, ROOT)
    assert [(f.rule, f.severity, f.file, f.line) for f in found] == [
        # the expect() that failed, from the failure's stack (the test itself starts on line 8)
        ("jest/failed-test", "error", "__tests__/planted.test.ts", 9),
        # a timeout has no frame in the test file and no location: the suite message's "Cause" frame gives the test
        ("jest/failed-test", "error", "__tests__/planted.test.ts", 13),
        # a test file that could not run (a missing import)
        ("jest/suite-failed", "error", "backend/__tests__/broken.test.mjs", 5),
    ]
    assert found[0].message == "planted fails on purpose: Error: expect(received).toBe(expected) // Object.is equality"
    assert found[0].extra == {"test": "planted fails on purpose"}
    assert found[1].message.startswith('times out: Error: thrown: "Exceeded timeout of 50 ms')
    assert found[2].message == ("test suite failed to run: Cannot find module '../src/does-not-exist.mjs' "
                                "from 'backend/__tests__/broken.test.mjs'")


def test_the_test_location_is_the_fallback_when_no_frame_points_into_the_test_file():
    results = json.loads(UNIT)
    test = results["testResults"][0]["assertionResults"][1]
    test["failureMessages"] = ["Error: boom\n    at somewhere (node_modules/x.js:1:1)"]
    results["testResults"][0]["message"] = ""
    (first, *_) = jest.parse_results(json.dumps(results).encode(), ROOT)
    assert (first.file, first.line, first.message) == ("__tests__/planted.test.ts", 8, "planted fails on purpose: Error: boom")


def test_summary_counts_tests_and_files():
    assert jest.summary(UNIT) == "13 of 15 test(s) passed in 3 file(s); 2 failed; 1 file(s) failed to run"
    assert jest.summary(passing()) == "3 of 3 test(s) passed in 1 file(s)"


def test_judge_fails_on_failures_and_passes_a_clean_run():
    judged = jest.judge(run())
    assert judged.status == "failed" and len(judged.findings) == 3
    assert judged.reason == "13 of 15 test(s) passed in 3 file(s); 2 failed; 1 file(s) failed to run"
    clean = jest.judge(run(passing(), exit_code=0))
    assert (clean.status, clean.findings, clean.reason) == ("passed", (), "3 of 3 test(s) passed in 1 file(s)")


def test_judge_reports_a_run_that_found_no_tests():
    empty = json.dumps({"numTotalTestSuites": 0, "numTotalTests": 0, "testResults": []}).encode()
    judged = jest.judge(run(empty, exit_code=1))
    assert judged.status == "failed" and [f.rule for f in judged.findings] == ["jest/no-tests"]


@pytest.mark.parametrize(("step_run", "message"), [
    (run(results=None), "Jest wrote no jest-results.json"),
    (run(junit=None), "Jest wrote no junit.xml"),
    (run(results=b"{oops"), "Jest's JSON results are unreadable"),
    (run(results=b'{"numTotalTests": 1}'), "Jest's JSON results have no testResults list"),
    # exit 1 with a clean report: e.g. a crash after the tests ran; never a pass
    (run(results=passing(), exit_code=1), "Jest exited with code 1 but its results list no failure"),
])
def test_missing_or_inconsistent_reports_are_report_errors(step_run: StepRun, message: str):
    with pytest.raises(ReportError, match=message):
        jest.judge(step_run)


def test_step_writes_every_report_outside_the_source_and_is_pinned():
    step = jest.step("tests/unit/node22/shard1of2", 22, ("--shard=1/2", "--passWithNoTests"))
    assert step.node_major == 22 and step.image == "node:22-bookworm-slim"
    assert step.argv[0] == "node_modules/.bin/jest" and step.argv[-2:] == ("--shard=1/2", "--passWithNoTests")
    for arg in ("--ci", "--coverage", "--coverageReporters=json", "--coverageReporters=json-summary",
                "--coverageReporters=cobertura", "--coverageDirectory={reports}", "--coverageThreshold={}", "--json",
                "--outputFile={reports}/jest-results.json", "--reporters=default",
                "--reporters={tools}/junit-reporter.cjs"):
        assert arg in step.argv
    assert dict(step.env) == {"JEST_JUNIT_OUTPUT_DIR": "{reports}", "JEST_JUNIT_OUTPUT_NAME": "junit.xml"}
    assert step.outputs == ("jest-results.json", "junit.xml", "coverage-final.json", "coverage-summary.json",
                            "cobertura-coverage.xml")
    assert step.ok_codes == {0} and step.finding_codes == {1} and step.package == "jest"


# the app's own coverageThreshold, as Jest holds an unsharded run to it (recorded: the sample app with thresholds set)

THRESHOLD_RESULTS = (FIXTURES / "jest" / "threshold-results.json").read_text().replace("<ROOT>", ROOT).encode()
THRESHOLD_STDERR = (FIXTURES / "jest" / "threshold-failures.stderr").read_text().replace("<ROOT>", ROOT)


def test_an_unsharded_run_keeps_the_apps_thresholds_and_a_shard_turns_them_off():
    assert not any(a.startswith("--coverageThreshold") for a in jest.step("tests/unit/node22", 22).argv)
    shard = jest.step("tests/unit/node22/shard1of2", 22, ("--shard=1/2", "--passWithNoTests")).argv
    assert shard[-3:] == ("--coverageThreshold={}", "--shard=1/2", "--passWithNoTests")


def test_each_threshold_jest_reports_unmet_is_a_finding_and_the_step_fails():
    judgement = jest.judge(StepRun(exit_code=1, stderr=THRESHOLD_STDERR, root=ROOT,
                                   files={jest.RESULTS: THRESHOLD_RESULTS, jest.JUNIT: JUNIT}))
    assert judgement.status == "failed"
    assert judgement.reason == "106 of 106 test(s) passed in 10 file(s); 5 coverage threshold(s) not met"
    suffix = " (coverageThreshold in the app's Jest config)"
    assert [(f.rule, f.severity, f.file, f.message) for f in judgement.findings] == [
        ("jest/coverage-threshold", "error", None, m + suffix) for m in (
            "Uncovered count for branches (1) exceeds global threshold (0.5)",
            'Coverage for lines (99.27%) does not meet "global" threshold (99.5%)',
            'Coverage for statements (99.34%) does not meet "./lib/" threshold (100%)',
            'Coverage for functions (90.9%) does not meet "components/ListingBrowser.tsx" threshold (100%)',
            "Coverage data for ./nothing/ was not found.",
        )]
