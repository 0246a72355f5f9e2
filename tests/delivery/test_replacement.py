"""Replacement decided by diffing templates: the create-only table (cfn-lint's provider schemas, plus the overrides
they miss), the diff's rows, and the emulator profile's drops."""

from __future__ import annotations

import json

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from ci.config import load_config
from ci.core.errors import UsageError
from ci.delivery import create_only, emulator, replacement, target
from ci.delivery.template_text import declared_lines, load


def test_the_table_is_current_with_the_installed_cfn_lint():
    assert json.loads(create_only.TABLE.read_text()) == create_only.from_cfn_lint(), (
        "run `python -m ci.delivery.create_only --write`")


@pytest.mark.parametrize(("kind", "names"), sorted(create_only.OVERRIDES.items()))
def test_each_override_is_one_the_schemas_miss(kind, names):
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(create_only.REGION, kind).schema
    listed = {p.split("/")[2] for p in schema.get("createOnlyProperties", [])}
    assert not listed & set(names) and set(names) <= set(schema["properties"])


def test_schema_and_override_properties_both_force_replacement():
    forcing = create_only.table()
    assert {"TableName", "KeySchema"} <= forcing["AWS::DynamoDB::Table"]
    assert "BucketName" in forcing["AWS::S3::Bucket"]


def _table(key: str, **extra) -> dict:
    return {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                                                             "BillingMode": "PAY_PER_REQUEST", **extra}}


def test_diff_rows():
    deployed = {"Resources": {"T": _table("id"), "B": {"Type": "AWS::S3::Bucket"}, "Old": {"Type": "AWS::SQS::Queue"},
                              "U": _table("id")}}
    new = {"Resources": {"T": _table("pk"), "B": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": []}},
                         "New": {"Type": "AWS::SNS::Topic"}, "U": {**_table("id"), "Metadata": {"x": 1}}}}
    rows = [(c.action, c.logical_id, c.replacement) for c in replacement.diff(deployed, new)]
    assert rows == [("Modify", "B", "False"), ("Add", "New", ""), ("Remove", "Old", ""), ("Modify", "T", "True")]


def test_completed_fills_only_what_the_service_left_open():
    service = [replacement.Change("Modify", "T", "AWS::DynamoDB::Table"),
               replacement.Change("Modify", "B", "AWS::S3::Bucket", "False")]
    decided = [replacement.Change("Modify", "T", "AWS::DynamoDB::Table", "True", replacement.DECIDED_BY_DIFF),
               replacement.Change("Modify", "B", "AWS::S3::Bucket", "True", replacement.DECIDED_BY_DIFF)]
    assert [(c.replacement, c.decided_by) for c in replacement.completed(service, decided)] == [
        ("True", "template diff"), ("False", "service")]


def test_emulator_profile_drops_api_gateway_and_what_refers_to_it():
    template = {"Resources": {
        "Api": {"Type": "AWS::ApiGateway::RestApi"},
        "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        "Fn": {"Type": "AWS::Lambda::Function"},
        "Alarm": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::Sub": "${Api.RootResourceId}"}}}},
        "Outputs": {"Url": {"Value": {"Fn::Sub": "https://${Api}.execute-api"}}, "Fn": {"Value": {"Ref": "Fn"}}}}
    kept, dropped = emulator.profile(template)
    assert sorted(kept["Resources"]) == ["Fn"] and list(kept["Outputs"]) == ["Fn"]
    assert dropped == [("Alarm", "AWS::SNS::Topic"), ("Api", "AWS::ApiGateway::RestApi"),
                       ("Perm", "AWS::Lambda::Permission"), ("Outputs.Url", "output")]
    assert "Api" in template["Resources"]  # the input is left as it was


ENVIRONMENT = "{region: eu-west-1, stack_name: s, artifacts_bucket: bucket-a}"


@pytest.mark.parametrize(("yaml_text", "name", "found", "message"), [
    ("{}", "staging", [], "pipeline.yaml has no environments; add environments.staging with region, stack_name"),
    (f"environments: {{prod: {ENVIRONMENT}, dev: {ENVIRONMENT}}}", "staging", [],
     "--env staging: no such environment; pipeline.yaml has dev, prod"),
    (f"environments: {{staging: {ENVIRONMENT}}}", "staging", [], "has no SAM/CloudFormation template"),
    (f"environments: {{staging: {ENVIRONMENT}}}", "staging", ["a.yaml", "b.yaml"],
     "2 templates \\(a.yaml, b.yaml\\); set environments.staging.template"),
])
def test_environment_and_template_errors_are_one_line(yaml_text, name, found, message):
    config = load_config(yaml_text)
    with pytest.raises(UsageError, match=message):
        target.environment(config, name)
        target.template(config, name, found)


def test_the_environments_template_wins():
    config = load_config("environments: {staging: {region: eu-west-1, stack_name: s, artifacts_bucket: bucket-a, "
                         "template: infra/stack.yaml}}")
    assert target.template(config, "staging", ["a.yaml", "b.yaml"]) == "infra/stack.yaml"


def test_short_form_tags_read_as_intrinsics():
    doc = load("Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt R.Arn\n"
               "      Name: !Sub '${AWS::StackName}-f'\n      Table: !Ref T\n", "t")
    assert doc["Resources"]["F"]["Properties"] == {"Role": {"Fn::GetAtt": ["R", "Arn"]},
                                                   "Name": {"Fn::Sub": "${AWS::StackName}-f"}, "Table": {"Ref": "T"}}
    with pytest.raises(UsageError, match="t: not a template"):
        load("- a\n", "t")


def test_declared_lines_find_ids_in_the_source_only():
    text = "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n  Fn:\n    Type: X\n"
    assert declared_lines(text, ["Table", "Fn", "FnRole"]) == {"Table": 2, "Fn": 4}


def test_the_emulators_types_are_current_with_the_installed_moto():
    assert json.loads(emulator.TYPES.read_text()) == emulator.from_moto(), "run `python -m ci.delivery.emulator --write`"


def test_the_emulator_profile_drops_what_moto_skips_and_the_outputs_that_refer_to_it():
    """lambda-refarch-webapp's shape: moto creates no Amplify or Cognito resource (it skips them on a creation, then
    fails an update whose outputs refer to them: HTTP 500), so they go, with the output joining their attributes;
    a custom resource and what moto creates stay."""
    template = {"Resources": {
        "TodoTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "UserPool": {"Type": "AWS::Cognito::UserPool", "Properties": {}},
        "AmplifyApp": {"Type": "AWS::Amplify::App", "Properties": {}},
        "AmplifyBranch": {"Type": "AWS::Amplify::Branch", "Properties": {"AppId": {"Fn::GetAtt": ["AmplifyApp",
                                                                                                 "AppId"]}}},
        "Seed": {"Type": "Custom::Seed", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:s"}}},
        "Outputs": {"AmplifyURL": {"Value": {"Fn::Join": ["", ["https://", {"Fn::GetAtt": ["AmplifyBranch",
                                                                                            "BranchName"]}]]}},
                    "TableName": {"Value": {"Ref": "TodoTable"}}}}
    kept, dropped = emulator.profile(template)
    assert sorted(kept["Resources"]) == ["Seed", "TodoTable"] and list(kept["Outputs"]) == ["TableName"]
    assert dropped == [("AmplifyApp", "AWS::Amplify::App"), ("AmplifyBranch", "AWS::Amplify::Branch"),
                       ("UserPool", "AWS::Cognito::UserPool"), ("Outputs.AmplifyURL", "output")]
