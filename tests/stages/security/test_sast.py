"""SAST: the judge on Semgrep's real SARIF (captured from the step on tests/fixtures/sast), new-against-base by
fingerprint, the step, and real Semgrep with the shipped rules on the planted files, the sample app and a pull request
whose base already had the injectable pattern."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from apps import COAGENT, FIXTURES, run_local
from gitrepo import commit, init

from ci.pipeline import runner
from ci.stages.security import sast
from ci.config import load_config
from ci.core.scheduler import judge_run
from ci.core.step import PYTHON_IMAGE, StepRun

SAST = FIXTURES / "sast"
PLANTED = [  # (rule, file, line) of every finding Semgrep reports on the planted files
    ("bayon.dangerously-set-inner-html", "Page.tsx", 4),
    ("bayon.eval", "planted.ts", 6),
    ("bayon.new-function", "planted.ts", 8),
    ("bayon.child-process-shell-injection", "planted.ts", 10),
    ("bayon.child-process-shell-injection", "planted.ts", 11),
    ("bayon.sql-concatenation", "planted.ts", 17),
    ("bayon.sql-concatenation", "planted.ts", 18),
    ("bayon.insecure-random-token", "planted.ts", 24),
    ("bayon.hardcoded-credential", "planted.ts", 29),
]


def step(base: str = ""):
    (only,) = sast.steps(load_config(None), base)
    return only


def captured(*names: str) -> dict[str, bytes]:
    return {name: (SAST / name).read_bytes() for name in names}


def located(findings) -> list[tuple[str, str, int]]:
    return [(f.rule, f.file, f.line) for f in findings]


# 1. the judge on captured SARIF

def test_every_result_is_a_finding_with_rule_severity_file_and_line():
    judgement = judge_run(step(), StepRun(exit_code=0, files=captured(sast.REPORT)))
    assert judgement.status == "failed"
    assert sorted(located(judgement.findings)) == sorted(PLANTED)
    assert {f.severity for f in judgement.findings} == {"error"}
    assert judgement.reason == "Semgrep 1.185.0: 9 error(s), 0 warning(s)"
    (first,) = [f for f in judgement.findings if f.rule == "bayon.eval"]
    assert first.column == 3 and first.message.startswith("eval() runs a string as code")


def test_with_a_base_only_new_findings_count_and_moved_lines_are_not_new():
    """The base had planted.ts three lines lower and no Page.tsx: only Page.tsx's finding is new."""
    judgement = judge_run(step("main"), StepRun(exit_code=0, files=captured(sast.REPORT, sast.BASE_REPORT)))
    assert located(judgement.findings) == [("bayon.dangerously-set-inner-html", "Page.tsx", 4)]
    assert judgement.reason == "Semgrep 1.185.0: 1 error(s), 0 warning(s) new; 8 already in main not reported"


def test_the_same_line_twice_counts_twice():
    head = json.loads((SAST / sast.REPORT).read_text())
    results = head["runs"][0]["results"]
    twin = json.loads(json.dumps(results[0]))
    twin["partialFingerprints"][sast.FINGERPRINT] = twin["partialFingerprints"][sast.FINGERPRINT][:-1] + "2"
    results.append(twin)
    files = {sast.REPORT: json.dumps(head).encode(), sast.BASE_REPORT: (SAST / sast.REPORT).read_bytes()}
    judgement = judge_run(step("main"), StepRun(exit_code=0, files=files))
    assert len(judgement.findings) == 1  # the second occurrence of an identical match is new


def test_levels_map_to_severities_and_notifications_are_warnings():
    head = json.loads((SAST / sast.REPORT).read_text())
    run = head["runs"][0]
    run["results"] = run["results"][:2]
    run["results"][0]["level"] = "note"
    run["results"][1]["level"] = "warning"
    run["invocations"][0]["toolExecutionNotifications"] = [
        {"descriptor": {"id": "Syntax error"}, "level": "warning", "message": {"text": "Syntax error at line bad.ts:4"}}]
    judgement = judge_run(step(), StepRun(exit_code=0, files={sast.REPORT: json.dumps(head).encode()}))
    assert judgement.status == "passed"  # warnings and notes do not fail the gate
    assert [(f.rule, f.severity) for f in judgement.findings][2:] == [("semgrep/syntax-error", "warning")]
    assert [f.severity for f in judgement.findings][:2] == ["info", "warning"]


def test_a_file_semgrep_cannot_parse_is_a_warning_at_its_file_and_line():
    """Captured from the step on tests/fixtures/sast/Broken.ts, whose line 4 does not parse."""
    files = {sast.REPORT: (SAST / "semgrep-syntax-error.sarif").read_bytes()}
    judgement = judge_run(step(), StepRun(exit_code=0, files=files))
    assert judgement.status == "passed" and judgement.reason == "Semgrep 1.185.0: 0 error(s), 1 warning(s)"
    (note,) = judgement.findings
    assert (note.rule, note.severity, note.file, note.line, note.column, note.message) == (
        "semgrep/syntax-error", "warning", "Broken.ts", 4, 17, "Syntax error at line Broken.ts:4")
    text = (SAST / "semgrep-syntax-error.sarif").read_text()
    assert "(((" not in text and "prices" not in text  # the code Semgrep quoted in the message is not kept


@pytest.mark.parametrize("files, base, reason", [
    ({}, "", "Semgrep wrote no report (semgrep.sarif)"),
    ({sast.REPORT: b"[]"}, "", "Semgrep's SARIF report semgrep.sarif is unreadable"),
    (captured(sast.REPORT), "main", "Semgrep wrote no report (semgrep-base.sarif)"),
    ({sast.REPORT: json.dumps({"runs": [{"invocations": [{"executionSuccessful": False}]}]}).encode()}, "",
     "Semgrep reports that its run did not succeed"),
])
def test_a_missing_or_unreadable_report_is_a_crash(files: dict, base: str, reason: str):
    judgement = judge_run(step(base), StepRun(exit_code=0, files=files))
    assert judgement.status == "crashed" and judgement.reason.startswith(reason)


def test_a_scan_of_no_files_fails_with_the_reason_and_an_uncounted_one_is_a_crash():
    head = json.loads((SAST / sast.REPORT).read_text())
    assert head["runs"][0]["properties"][sast.SCANNED] == {"files": 2, "path": "apps/web"}  # as the script wrote it
    head["runs"][0]["results"] = []
    head["runs"][0]["properties"][sast.SCANNED] = {"files": 0, "path": "apps/typo"}
    judgement = judge_run(step(), StepRun(exit_code=0, files={sast.REPORT: json.dumps(head).encode()}))
    assert (judgement.status, judgement.reason) == ("failed", "scanned no files under apps/typo: check --source/--repo-path")
    del head["runs"][0]["properties"]
    judgement = judge_run(step(), StepRun(exit_code=0, files={sast.REPORT: json.dumps(head).encode()}))
    assert judgement.status == "crashed"
    assert judgement.reason == "Semgrep's report does not say how many files it scanned (semgrep.sarif)"


def test_the_captured_sarif_holds_no_code_and_no_placeholder_fingerprints():
    for name in (sast.REPORT, sast.BASE_REPORT):
        text = (SAST / name).read_text()
        assert "snippet" not in text and "requires login" not in text and "planted-credential" not in text
        assert all(r["partialFingerprints"][sast.FINGERPRINT] for r in json.loads(text)["runs"][0]["results"])


# 2. the step

def test_the_step_runs_offline_with_the_shipped_rules_in_a_pinned_python_image():
    config = load_config("security:\n  sast:\n    rules: config/semgrep\n")
    (s,) = sast.steps(config, "origin/main")
    assert s.argv == ("python3", "{tools}/sast-scan.py", "--rules", "{tools}/semgrep", "--rules-if-present",
                      "config/semgrep", "--output", "{reports}", "--base", "origin/main")
    assert s.tools == ("sast-scan.py", "semgrep/typescript.yaml")
    assert (s.image, s.in_repo, s.outputs) == (PYTHON_IMAGE, True, ("semgrep.sarif", "semgrep-base.sarif"))
    assert s.tool_install[-1][-1] == "semgrep==1.185.0"
    assert step().outputs == ("semgrep.sarif",) and "--base" not in step().argv


def test_the_runner_keeps_semgrep_offline():
    script = (sast.TOOLS_DIR / sast.SCRIPT).read_text()
    for flag in ("--metrics=off", "--disable-version-check", "--no-rewrite-rule-ids"):
        assert f'"{flag}"' in script


# 3. real Semgrep

@pytest.mark.tools
def test_the_shipped_rules_find_each_planted_pattern_and_no_look_alike(tmp_path: Path):
    app = tmp_path / "app"
    app.mkdir()
    for name in ("planted.ts", "Page.tsx"):
        shutil.copy(SAST / name, app / name)
    report = run_local(lambda executor: runner.gate("sast", executor), app)
    assert not report.passed
    assert sorted(located(report.findings)) == sorted(PLANTED)


@pytest.mark.tools
def test_a_real_scan_of_an_empty_folder_fails(tmp_path: Path):
    root = init(tmp_path / "repo")
    commit(root, {"apps/web/lib/a.ts": "export const a = 1;\n"}, "one")
    (root / "apps" / "typo").mkdir()
    report = run_local(lambda executor: runner.gate("sast", executor), root / "apps" / "typo")
    (result,) = report.steps
    assert not report.passed and (result.status, result.exit_code) == ("failed", 0)
    assert result.reason == "scanned no files under apps/typo: check --source/--repo-path"


@pytest.mark.tools
def test_a_file_semgrep_cannot_parse_is_reported_at_its_file_and_line(tmp_path: Path):
    app = tmp_path / "app"
    (app / "lib").mkdir(parents=True)
    shutil.copy(SAST / "Broken.ts", app / "lib" / "Broken.ts")
    report = run_local(lambda executor: runner.gate("sast", executor), app)
    assert report.passed  # a warning: the rest of the app was scanned
    assert located(report.findings) == [("semgrep/syntax-error", "lib/Broken.ts", 4)]
    assert report.findings[0].column == 17 and report.findings[0].message == "Syntax error at line lib/Broken.ts:4"


@pytest.mark.tools
def test_the_sample_app_is_clean():
    report = run_local(lambda executor: runner.gate("sast", executor), COAGENT)
    (result,) = report.steps
    assert report.passed and result.reason == "Semgrep 1.185.0: clean", result.reason


INJECTABLE = "import { exec } from \"child_process\";\n\nexport function list(dir: string) {\n  exec(`ls ${dir}`);\n}\n"


@pytest.mark.tools
def test_a_pull_request_reports_only_what_its_base_did_not_have(tmp_path: Path):
    root = init(tmp_path / "repo")
    commit(root, {"apps/web/lib/shell.ts": INJECTABLE, "apps/web/package.json": "{}\n"}, "base")
    commit(root, {"apps/web/lib/shell.ts": "// list a directory\n" + INJECTABLE,
                  "apps/web/lib/run.ts": "export function run(code: string) {\n  return eval(code);\n}\n"}, "pr")
    app = root / "apps/web"
    pr = run_local(lambda executor: runner.gate("sast", executor, base="main~1"), app)
    assert located(pr.findings) == [("bayon.eval", "lib/run.ts", 2)]
    assert pr.steps[0].reason.endswith("new; 1 already in main~1 not reported")
    everything = run_local(lambda executor: runner.gate("sast", executor), app)
    assert sorted(located(everything.findings)) == [("bayon.child-process-shell-injection", "lib/shell.ts", 5),
                                                    ("bayon.eval", "lib/run.ts", 2)]
