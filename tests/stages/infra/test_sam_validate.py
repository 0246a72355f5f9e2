"""`sam validate`'s judge on its real output (recorded from SAM CLI 1.170.0: a valid template, invalid ones, no
region), and the step: region from config, no AWS settings of the host."""

from __future__ import annotations

import json

import pytest
from apps import FIXTURES

from ci.config import load_config
from ci.core.scheduler import judge_run
from ci.core.step import PYTHON_IMAGE, StepRun
from ci.stages.infra import sam_validate

INFRA = FIXTURES / "infra"


def step(template: str = "backend/template.yaml", config: str | None = None):
    (only,) = sam_validate.steps(load_config(config), [template])
    return only


def judged(fixture: str, template: str = "backend/template.yaml"):
    return judge_run(step(template), StepRun(**json.loads((INFRA / fixture).read_text()), root="/src"))


def test_a_valid_template_passes_with_the_version_that_ran():
    judgement = judged("sam-valid.json")
    assert (judgement.status, judgement.tool_version) == ("passed", "1.170.0") and not judgement.findings


def test_an_invalid_template_is_a_finding_naming_the_resource_not_a_crash():
    judgement = judged("sam-invalid.json", "backend/broken.yaml")
    assert judgement.status == "failed" and judgement.reason == "sam 1.170.0: 1 error(s)"
    (found,) = judgement.findings
    assert (found.rule, found.severity, found.file) == ("sam/invalid-template", "error", "backend/broken.yaml")
    assert found.message == "ListingsFunction: property Bogus not defined for resource of type AWS::Serverless::Function"


def test_each_rejected_resource_is_its_own_finding():
    judgement = judged("sam-invalid-two.json", "two.yaml")
    assert [f.message.split(":")[0] for f in judgement.findings] == ["A", "B"]
    assert "property Other not defined" in judgement.findings[1].message


def test_no_region_is_a_crash_with_sams_reason_never_a_verdict_on_the_template():
    judgement = judged("sam-no-region.json")
    assert judgement.status == "crashed" and not judgement.findings
    assert "neither that backend/template.yaml is valid" in judgement.reason
    assert "AWS Region was not found" in judgement.reason


@pytest.mark.parametrize("run", [
    StepRun(exit_code=1, stdout="SAM CLI, version 1.170.0\n", stderr="Traceback (most recent call last):\n  ...\n"
            "KeyError: 'Resources'\n"),
    StepRun(exit_code=0, stdout=""),  # silent: no verdict
    StepRun(exit_code=1, stdout="SAM CLI, version 1.170.0\nSAM Template Not Found\n",
            stderr="Error: Template at /src/x.yaml is not found\n"),
])
def test_anything_else_is_a_crash(run):
    assert judge_run(step(), run).status == "crashed"


def test_an_error_line_that_is_no_exception_list_is_kept_whole():
    run = StepRun(exit_code=1, stdout="Template provided at 'x' was invalid SAM Template.\n",
                  stderr="Error: Structure of the SAM template is invalid. Resources section is required\n")
    (found,) = judge_run(step(), run).findings
    assert found.message == "Structure of the SAM template is invalid. Resources section is required"


def test_the_step_validates_in_the_configured_region_without_any_aws_setting_of_the_host():
    s = step("infra/api.yml", "infra:\n  region: eu-west-1\n")
    assert s.id == "infra/sam-validate/infra/api.yml" and s.tool == "sam"
    assert s.argv == ("sh", "-c", 'sam --version && exec sam validate --template "$1" --region "$2"', "sam",
                      "infra/api.yml", "eu-west-1")
    assert dict(s.env) == {"SAM_CLI_TELEMETRY": "0", "AWS_CONFIG_FILE": "/dev/null",
                           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"}
    assert not s.secrets and s.tool_image == PYTHON_IMAGE and s.tool_install[-1][-1] == "aws-sam-cli==1.170.0"
    assert s.ok_codes == {0} and s.finding_codes == {1} and not s.needs_install
