"""Which files are templates: by content, with infra.templates checked to exist and be one."""

import pytest

from apps import COAGENT, copy_app, run_local
from ci.config import load_config
from ci.core.errors import UsageError
from ci.pipeline import runner
from ci.stages.infra import templates

SAM = (COAGENT / "backend" / "template.yaml").read_text()


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("t.yaml", SAM, True),  # Transform + !Ref / !Sub tags
    ("t.yaml", "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n", True),
    ("t.json", '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}', True),
    ("t.yaml", "Resources:\n  X: {Type: Custom::Thing}\n", True),
    ("t.yaml", "name: ci\non: push\njobs: {}\n", False),  # a workflow
    ("t.yaml", "Resources:\n  X: {Type: Foo::Bar}\n", False),
    ("t.yaml", "Resources: {}\n", False),
    ("t.yaml", ": : not yaml [", False),
    ("t.json", "{not json", False),
    ("t.yaml", "- a list\n", False),
])
def test_a_template_is_recognised_by_its_content(path: str, text: str, expected: bool) -> None:
    assert templates.is_template(templates.parse(text, path)) is expected


def test_configured_templates_must_exist_and_be_templates() -> None:
    config = load_config("infra:\n  templates: [backend/template.yaml, missing.yaml]\n")
    with pytest.raises(UsageError, match=r"infra.templates\[1\] names missing.yaml, which the app does not have"):
        templates.chosen(config, {"backend/template.yaml": SAM, "missing.yaml": None})
    config = load_config("infra:\n  templates: [package.yaml]\n")
    with pytest.raises(UsageError, match=r"infra.templates\[0\] names package.yaml, which is no SAM/CloudFormation"):
        templates.chosen(config, {"package.yaml": "a: 1\n"})


def test_found_in_the_sample_app_and_not_in_ignored_folders(tmp_path) -> None:
    app = copy_app(tmp_path / "app")
    (app / "backend" / ".aws-sam").mkdir()
    (app / "backend" / ".aws-sam" / "template.yaml").write_text(SAM)  # sam build output: ignored
    (app / "infra").mkdir()
    (app / "infra" / "queue.json").write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}')
    (app / "infra" / "broken.yaml").write_text("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n   bad: [\n")
    (app / "infra" / "notes.yaml").write_text("just: [unclosed\n")  # broken, but no template
    found = run_local(lambda executor: runner.infra_templates(executor, load_config(None)), app)
    assert found == ["backend/template.yaml", "infra/broken.yaml", "infra/queue.json"]  # cfn-lint judges the broken one
