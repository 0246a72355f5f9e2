"""ESLint's judge on real captured `--format json` output (paths rewritten to <ROOT>)."""

import pytest

from ci.stages.quality import eslint
from ci.core.scheduler import judge_run
from ci.core.step import StepRun
from apps import FIXTURES

ROOT = "/src"


def fixture(name: str) -> bytes:
    """A captured report, its `<ROOT>` placeholder put back as the directory ESLint ran in."""
    return (FIXTURES / "eslint" / name).read_bytes().replace(b"<ROOT>", ROOT.encode())


def run(report: bytes | None, exit_code: int) -> StepRun:
    return StepRun(exit_code=exit_code, files={eslint.REPORT: report}, root=ROOT)


def test_conditional_hook_is_an_error_at_its_file_and_line():
    (found,) = eslint.parse(fixture("hook-error.json"), ROOT)
    assert (found.rule, found.severity, found.file, found.line, found.column) == (
        "react-hooks/rules-of-hooks", "error", "components/Planted.tsx", 5, 21)
    assert "called conditionally" in found.message


def test_errors_fail_the_step():
    judgement = eslint.judge(run(fixture("hook-error.json"), 1), max_warnings=10)
    assert judgement.status == "failed" and judgement.reason.startswith("1 error(s), 0 warning(s)")


@pytest.mark.parametrize(("max_warnings", "status"), [(0, "failed"), (1, "failed"), (None, "failed")])
def test_an_error_fails_whatever_the_warning_allowance(max_warnings, status):
    assert eslint.judge(run(fixture("error-and-warning.json"), 1), max_warnings=max_warnings).status == status


def test_warnings_count_against_max_warnings():
    findings = eslint.parse(fixture("error-and-warning.json"), ROOT)
    warning = next(f for f in findings if f.severity == "warning")
    assert (warning.rule, warning.file, warning.line) == ("@next/next/no-img-element", "components/PlantedImg.tsx", 2)
    only_warning = b'[{"filePath": "/src/a.tsx", "messages": [{"ruleId": "r", "severity": 1, "line": 1, "column": 1, "message": "m"}]}]'
    assert eslint.judge(run(only_warning, 0), max_warnings=0).status == "failed"
    assert eslint.judge(run(only_warning, 0), max_warnings=1).status == "passed"


@pytest.mark.parametrize(("report", "code", "why"), [
    (None, 0, "ESLint wrote no report"),
    (b"Oops! Something went wrong", 2, "exited with code 2"),
    (b"{not json", 1, "unreadable"),
    (b'{"not": "a list"}', 1, "not a list"),
    (b"[]", 1, "lists no errors"),
])
def test_a_missing_or_unreadable_report_is_a_crash_never_a_pass(report, code, why):
    step = eslint.step(22, 0)
    judgement = judge_run(step, StepRun(exit_code=code, files={eslint.REPORT: report}, root=ROOT, stderr="boom"))
    assert judgement.status == "crashed"
    assert why in judgement.reason
