"""Prettier's judge on real captured `--list-different` output."""

from ci.stages.quality import prettier
from ci.core.scheduler import judge_run
from ci.core.step import StepRun
from apps import FIXTURES


def test_each_listed_file_is_a_finding():
    (found,) = prettier.parse((FIXTURES / "prettier" / "list-different.txt").read_text(), "<ROOT>")
    assert (found.rule, found.severity, found.file, found.line) == ("prettier/format", "error", "lib/planted-format.ts", None)
    assert "format-fix" in found.message


def test_a_syntax_error_is_a_crash_with_prettiers_stderr():
    stderr = (FIXTURES / "prettier" / "syntax-error.stderr").read_text()
    judgement = judge_run(prettier.step(22), StepRun(exit_code=2, stderr=stderr))
    assert judgement.status == "crashed"
    assert "SyntaxError: Expression expected" in judgement.reason


def test_exit_1_without_a_list_is_a_crash():
    assert judge_run(prettier.step(22), StepRun(exit_code=1, stdout="")).status == "crashed"


def test_the_fixer_reports_what_it_rewrote():
    judgement = judge_run(prettier.fix_step(22), StepRun(exit_code=0, stdout="lib/a.ts\nlib/b.ts\n"))
    assert (judgement.status, judgement.reason) == ("passed", "rewrote 2 file(s)")
