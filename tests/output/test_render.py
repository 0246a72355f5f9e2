"""Renderers: JSON (the one result shape), Markdown, the table, and GitHub annotations."""

import json

import pytest

from ci.core.errors import UsageError
from ci.output.render import Caps, annotation, annotations, render
from ci.core.report import Finding, Report, StepResult, Table

FINDING = Finding("quality/lint", "eslint", "react-hooks/rules-of-hooks", "error", "components/A.tsx", 5, 21,
                  "Hook called conditionally: 50% of paths, a,b")
REPORT = Report("quality", (StepResult("quality/lint", "eslint", "failed", "9.39.5", 1, 1.25, "1 error(s)"),
                            StepResult("quality/format", "prettier", "passed", "3.10.1", 0, 0.5, "clean")), (FINDING,))


def test_json_has_the_one_result_shape():
    data = json.loads(render(REPORT, "json"))
    assert {"schema_version", "passed", "steps", "findings"} <= set(data)
    assert data["passed"] is False and data["schema_version"] == 1
    assert data["steps"][0] == {"id": "quality/lint", "tool": "eslint", "status": "failed", "tool_version": "9.39.5",
                                "exit_code": 1, "duration_s": 1.25, "reason": "1 error(s)", "started_s": 0.0}
    assert data["findings"][0] == {"step": "quality/lint", "tool": "eslint", "rule": "react-hooks/rules-of-hooks",
                                   "severity": "error", "file": "components/A.tsx", "line": 5, "column": 21,
                                   "message": "Hook called conditionally: 50% of paths, a,b"}


def test_annotations_are_workflow_commands_with_repo_paths_and_escaping():
    line = annotation(FINDING, "examples/coagent")
    assert line == ("::error file=examples/coagent/components/A.tsx,line=5,col=21,"
                    "title=eslint react-hooks/rules-of-hooks::Hook called conditionally: 50%25 of paths, a,b")
    multiline = Finding("s", "tsc", "TS1", "warning", "a%,:.ts", None, None, "one\ntwo")
    assert annotation(multiline) == "::warning file=a%25%2C%3A.ts,title=tsc TS1::one%0Atwo"


def test_github_format_puts_each_annotation_on_a_line_of_its_own():
    lines = render(REPORT, "github", "examples/coagent").splitlines()
    assert lines[0].startswith("::error file=examples/coagent/components/A.tsx,line=5")
    assert "quality: FAILED" in lines[-1]


def test_markdown_and_table_show_every_step_and_finding():
    md = render(REPORT, "markdown")
    assert "| `quality/lint` | eslint 9.39.5 | ❌ failed |" in md
    assert "`components/A.tsx:5:21`" in md and "FAILED" in md.splitlines()[0]
    table = render(REPORT, "table")
    assert "quality/format" in table and "components/A.tsx:5:21" in table and "quality: FAILED" in table


def test_an_unknown_format_is_a_one_line_usage_error():
    with pytest.raises(UsageError, match="--format yaml: unknown format; choose from table, json, markdown, github"):
        render(REPORT, "yaml")


def test_table_and_markdown_show_each_stage_the_wall_time_and_the_critical_path():
    timed = Report("ci", (StepResult("setup/install/node22", "npm", "passed", duration_s=2.0, started_s=0.0),
                          StepResult("quality/lint", "eslint", "failed", duration_s=8.0, started_s=2.0),
                          StepResult("tests/unit/node22", "jest", "skipped", reason="docs-only change against main: a.md")),
                   (), stages={"quality": ("quality/lint",), "unit_tests": ("tests/unit/node22",)})
    line = "wall 10.0 s; critical path: setup/install/node22 2.0s (20%) → quality/lint 8.0s (80%)"
    table = render(timed, "table")
    assert line in table and "│ quality    │ failed  │ 8.0s │" in table and "│ unit_tests │ skipped │ 0.0s │" in table
    md = render(timed, "markdown")
    assert line in md and "| quality | ❌ failed | 8.0s |" in md and "| unit_tests | ⏭️ skipped | 0.0s |" in md


# GitHub's caps: 10 annotations of each level per step, 50 per job, messages of at most 4096 characters

def finding(severity: str, n: int, message: str = "m") -> Finding:
    return Finding("tests/unit/node22", "jest", "jest/failed-test", severity, f"f{n}.ts", n, None, message)


def levels(lines: list[str]) -> list[str]:
    return [line.split(" ", 1)[0].split("::")[1] for line in lines]


def test_the_11th_error_is_left_out_and_a_notice_says_how_many_and_where_the_report_is():
    report = Report("unit_tests", (), tuple(finding("error", n) for n in range(1, 12)) + (finding("warning", 12),))
    lines = annotations(report, "examples/coagent")
    assert levels(lines) == ["error"] * 10 + ["warning", "notice"]
    assert "f11.ts" not in "".join(lines) and "file=examples/coagent/f10.ts" in lines[9]
    notice = lines[-1]
    assert notice.startswith("::notice::1 more error(s) and warning(s) not annotated")
    assert "`reports --function unit-tests` (report.json)" in notice and "`--format json`" in notice
    rendered = render(report, "github", "examples/coagent").splitlines()
    assert rendered[:12] == lines and rendered[12].startswith("unit_tests: steps")


def test_errors_come_first_then_warnings_and_info_is_never_annotated():
    report = Report("lint", (), (finding("info", 1), finding("warning", 2), finding("error", 3), finding("info", 4)))
    lines = annotations(report)
    assert levels(lines) == ["error", "warning"]  # no notice: nothing that GitHub would show was left out
    assert "f3.ts" in lines[0] and "f2.ts" in lines[1]
    many_infos = Report("build", (), tuple(finding("info", n) for n in range(30)))
    assert annotations(many_infos) == []


def test_warnings_have_their_own_ten_slots():
    report = Report("lint", (), tuple(finding("warning", n) for n in range(12)) + (finding("error", 99),))
    assert levels(annotations(report)) == ["error"] + ["warning"] * 10 + ["notice"]
    assert annotations(report)[-1].startswith("::notice::2 more ")


@pytest.mark.parametrize("count, errors, left_out", [(50, 50, 0), (51, 49, 2)])
def test_the_job_cap_of_50_keeps_a_slot_for_the_notice(count: int, errors: int, left_out: int):
    """GitHub's per-step cap (10 + 10 + the notice) binds first; with it raised, the job's 50 still hold."""
    report = Report("lint", (), tuple(finding("error", n) for n in range(count)))
    lines = annotations(report, caps=Caps(per_level=100))
    assert len(lines) == 50 and levels(lines).count("error") == errors
    assert levels(lines).count("notice") == (1 if left_out else 0)
    if left_out:
        assert lines[-1].startswith(f"::notice::{left_out} more ")


def test_a_message_is_cut_to_what_github_keeps():
    long = finding("error", 1, "x" * 5000 + "%")
    message = annotation(long).split("::", 2)[2]
    assert len(message) == 4096 and message.endswith("x…")
    short = finding("error", 1, "y" * 4096)
    assert annotation(short).split("::", 2)[2] == "y" * 4096


def test_table_and_markdown_say_what_a_step_ran_against():
    steps = (StepResult("tests/integration", "jest", "passed", reason="4 of 4 test(s) passed",
                        services=({"name": "moto", "image": "motoserver/moto:5.1.4"},)),
             StepResult("tests/unit/node22", "jest", "passed", reason="clean",
                        services=({"name": "moto", "version": "5.2.1"}, {"name": "redis"})))
    report = Report("ci", steps, ())
    for text in (render(report, "table"), render(report, "markdown")):
        assert "4 of 4 test(s) passed; against moto motoserver/moto:5.1.4" in text
        assert "clean; against moto 5.2.1, redis" in text
    assert "against" not in render(REPORT, "table")  # steps without services say nothing more


def test_a_failed_install_is_named_with_its_cause_and_the_steps_it_kept_from_running():
    from apps import FIXTURES
    from ci.core.executor import INSTALL_ARGV
    from ci.core.text import npm_failed

    reason = npm_failed(INSTALL_ARGV, 1, (FIXTURES / "npm" / "ci-out-of-sync.txt").read_text())  # real npm output
    blocked = [StepResult(i, "x", "skipped", reason="dependency install failed (setup/install/node22)",
                          blocked_by="setup/install/node22") for i in ("quality/lint", "tests/unit/node22", "build/next")]
    report = Report("ci", (StepResult("setup/install/node22", "npm", "crashed", exit_code=1, duration_s=2.1,
                                      reason=reason),
                           *blocked, StepResult("tests/unit/node24", "jest", "skipped", reason="Node 24 is not here")),
                    (), stages={"quality": ("quality/lint",), "build": ("build/next",)})
    line = ("ci: FAILED: setup/install/node22 crashed (`npm ci` exited with code 1: `npm ci` can only install packages "
            "when your package.json and package-lock.json or npm-shrinkwrap.json are in sync), 3 step(s) not run")
    table = render(report, "table").splitlines()
    assert table[-1] == line and table[-2] == "wall 2.1 s; critical path: setup/install/node22 2.1s (100%)"
    assert render(report, "markdown").splitlines()[0] == f"## ❌ {line}"
    steps = json.loads(render(report, "json"))["steps"]
    assert [s.get("blocked_by") for s in steps] == [None, *["setup/install/node22"] * 3, None]


def test_table_and_markdown_show_a_step_s_summary_table_after_the_findings():
    summary = Table("scores (median of the runs, 0-100)", ("url", "form factor", "median", "spread", "baseline Δ"),
                    (("/", "mobile", 76.0, "68-84", -8.0), ("/about", "desktop", 100.0, "100-100", None)),
                    step="performance/lighthouse")
    report = Report("lighthouse", (StepResult("performance/lighthouse", "lighthouse", "passed"),), (), tables=(summary,))
    text = render(report, "table")
    assert "performance/lighthouse: scores (median of the runs, 0-100)" in text
    assert "│ /      │ mobile      │ 76     │ 68-84   │ -8         │" in text
    assert text.index("scores (median") < text.index("lighthouse: PASSED")
    md = render(report, "markdown")
    assert "**performance/lighthouse: scores (median of the runs, 0-100)**" in md
    assert "| url | form factor | median | spread | baseline Δ |" in md
    assert "| / | mobile | 76 | 68-84 | -8 |" in md and "| /about | desktop | 100 | 100-100 |  |" in md
