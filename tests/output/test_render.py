"""Renderers: JSON (the one result shape), Markdown, the table, and GitHub annotations."""

import json

import pytest

from ci.core.errors import UsageError
from ci.output.render import annotation, render
from ci.core.report import Finding, Report, StepResult

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
