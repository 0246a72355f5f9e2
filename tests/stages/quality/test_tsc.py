"""tsc's judge on real captured `--pretty false` output."""

from ci.stages.quality import tsc
from ci.core.scheduler import judge_run
from ci.core.step import StepRun
from apps import FIXTURES


def output(name: str) -> str:
    return (FIXTURES / "tsc" / name).read_text()


def test_one_error_at_its_file_line_and_column():
    (found,) = tsc.parse(output("one-error.txt"), "<ROOT>")
    assert (found.rule, found.severity, found.file, found.line, found.column) == (
        "TS2322", "error", "lib/planted-type.ts", 1, 14)


def test_indented_lines_continue_the_previous_diagnostic():
    first, second = tsc.parse(output("chained-errors.txt"), "<ROOT>")
    assert first.file == "lib/planted-chain.ts" and first.line == 2
    assert first.message.splitlines()[1:] == [
        "The types of 'a.b' are incompatible between these types.",
        "Type 'string' is not assignable to type 'number'.",
    ]
    assert second.file == "lib/planted-type.ts"


def test_global_diagnostics_have_no_location():
    (found,) = tsc.parse("error TS5023: Unknown compiler option 'nope'.", "")
    assert (found.rule, found.file, found.line) == ("TS5023", None, None)


def test_exit_2_with_diagnostics_is_a_failure_and_without_them_a_crash():
    step = tsc.step(22)
    assert judge_run(step, StepRun(exit_code=2, stdout=output("one-error.txt"))).status == "failed"
    crashed = judge_run(step, StepRun(exit_code=1, stdout="", stderr="Cannot find module 'typescript'"))
    assert crashed.status == "crashed" and "printed no diagnostics" in crashed.reason
    assert judge_run(step, StepRun(exit_code=134, stderr="Aborted")).status == "crashed"
    assert judge_run(step, StepRun(exit_code=0)).status == "passed"
