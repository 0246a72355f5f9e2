"""cfn-lint's judge on its real JSON (recorded from the step on the sample template, tests/fixtures/infra/app's
broken and stateful templates), its exit-code bitmask, and the step."""

from __future__ import annotations

import json

import pytest
from apps import FIXTURES

from ci.config import load_config
from ci.core.scheduler import judge_run
from ci.core.step import PYTHON_IMAGE, StepRun
from ci.stages.infra import cfn_lint

INFRA = FIXTURES / "infra"
VERSION = "cfn-lint 1.58.0\n"


def step(template: str = "backend/template.yaml", config: str | None = None):
    (only,) = cfn_lint.steps(load_config(config), [template])
    return only


def judged(fixture: str, exit_code: int, template: str = "backend/template.yaml", stdout: str = VERSION):
    report = (INFRA / fixture).read_bytes()
    return judge_run(step(template), StepRun(exit_code=exit_code, stdout=stdout, files={cfn_lint.REPORT: report},
                                             root="/src"))


def located(judgement) -> list[tuple[str, str, str, int]]:
    return [(f.rule, f.severity, f.file, f.line) for f in judgement.findings]


def test_the_sample_warns_of_its_table_by_i3011_and_of_its_bucket_by_the_pipelines_rule():
    judgement = judged("cfn-lint-sample.json", 12)
    assert judgement.status == "passed" and judgement.tool_version == "1.58.0"
    assert located(judgement) == [("I3011", "warning", "backend/template.yaml", 49)] * 2 + [
        ("W9011", "warning", "backend/template.yaml", 60)] * 2
    assert [f.message.split(" is ")[0] for f in judgement.findings[:2]] == ["'DeletionPolicy'", "'UpdateReplacePolicy'"]
    assert "AWS::S3::Bucket has no DeletionPolicy" in judgement.findings[2].message
    assert judgement.reason == "cfn-lint 1.58.0: 0 error(s), 4 warning(s)"


def test_a_planted_unknown_property_is_e3002_at_its_line_and_fails():
    judgement = judged("cfn-lint-broken.json", 2, "backend/broken.yaml")
    assert judgement.status == "failed"
    assert located(judgement) == [("E3002", "error", "backend/broken.yaml", 11),
                                  ("E3002", "error", "backend/broken.yaml", 18)]
    assert "'Bogus' was unexpected" in judgement.findings[0].message and judgement.findings[0].column == 7
    assert "Did you mean 'TableName'?" in judgement.findings[1].message


def test_stateful_resources_that_lose_their_data_are_warnings_and_kept_ones_are_not():
    judgement = judged("cfn-lint-stateful.json", 4, "stateful/template.yaml")
    assert judgement.status == "passed"
    assert [(f.rule, f.line) for f in judgement.findings] == [("W9011", 5), ("W9011", 5), ("W9011", 9),
                                                              ("W9011", 11), ("W9011", 11)]
    messages = [f.message for f in judgement.findings]
    assert messages[0].startswith("AWS::Serverless::SimpleTable has no DeletionPolicy")
    assert messages[2].startswith("AWS::Cognito::UserPool has DeletionPolicy: Delete")
    assert not any("Archive" in m or "DBCluster" in m for m in messages)  # Retain / Snapshot on both: kept


@pytest.mark.parametrize("code", [32, 1, 16])
def test_any_code_outside_the_levels_bitmask_is_a_crash(code):
    judgement = judge_run(step(), StepRun(exit_code=code, stdout=VERSION, stderr="ERROR - Regions ['us-esat-1'] are "
                                          "unsupported", files={cfn_lint.REPORT: None}))
    assert judgement.status == "crashed" and f"code {code}" in judgement.reason and "us-esat-1" in judgement.reason


@pytest.mark.parametrize("files, problem", [
    ({}, "cfn-lint wrote no report"),
    ({cfn_lint.REPORT: b"[{"}, "is unreadable"),
    ({cfn_lint.REPORT: b'{"Rule": 1}'}, "is not a list of matches"),
    ({cfn_lint.REPORT: b'[{"Level": "Error"}]'}, "holds a match without"),
])
def test_a_missing_or_unreadable_report_is_a_crash(files, problem):
    judgement = judge_run(step(), StepRun(exit_code=2, stdout=VERSION, files=files))
    assert judgement.status == "crashed" and problem in judgement.reason


def test_a_report_whose_levels_do_not_make_the_exit_code_is_a_crash():
    """An empty list with exit 2 (errors) was not written by this run: never read as clean."""
    assert judge_run(step(), StepRun(exit_code=2, files={cfn_lint.REPORT: b"[]"})).status == "crashed"
    assert judged("cfn-lint-sample.json", 8).status == "crashed"  # the warnings' bit is missing


def test_the_version_is_what_the_tool_printed_and_unknown_otherwise():
    assert judged("cfn-lint-sample.json", 12, stdout="").tool_version is None
    assert judged("cfn-lint-sample.json", 12, stdout="something else\n").reason.startswith("cfn-lint ?:")


def test_the_step_lints_one_template_in_the_configured_region_with_the_pinned_cfn_lint():
    s = step("infra/api.yml", "infra:\n  region: eu-west-1\n")
    assert s.id == "infra/cfn-lint/infra/api.yml" and s.tool == "cfn-lint"
    assert s.argv == ("sh", "-c", 'cfn-lint --version && exec cfn-lint --format json --output-file '
                      '"$1/cfn-lint.json" --include-checks I3011 --append-rules "$2" -- "$3"',
                      "cfn-lint", "{reports}", "{tools}/cfn-lint-rules", "infra/api.yml")
    assert dict(s.env) == {"AWS_DEFAULT_REGION": "eu-west-1", "PYTHONDONTWRITEBYTECODE": "1"} and not s.secrets
    assert s.tool_image == PYTHON_IMAGE and s.tool_install[-1][-1] == "cfn-lint==1.58.0" and not s.needs_install
    assert s.ok_codes == {0} and s.finding_codes == {2, 4, 6, 8, 10, 12, 14}
    assert s.tools == ("cfn-lint-rules/stateful_kept.py",)


def test_the_recorded_reports_hold_no_machine_path():
    for name in ("cfn-lint-sample.json", "cfn-lint-broken.json", "cfn-lint-stateful.json"):
        assert {m["Filename"] for m in json.loads((INFRA / name).read_text())} <= {
            "backend/template.yaml", "backend/broken.yaml", "stateful/template.yaml"}


def test_a_clean_template_passes_on_cfn_lints_empty_list():
    """What cfn-lint 1.58.0 writes for a template without a match (recorded: `[]`, exit 0)."""
    judgement = judge_run(step(), StepRun(exit_code=0, stdout=VERSION, files={cfn_lint.REPORT: b"[]\n"}))
    assert (judgement.status, judgement.findings, judgement.reason) == ("passed", (), "cfn-lint 1.58.0: clean")
