"""The change set calls against a recorded CloudFormation conversation (botocore's Stubber: every request and
response checked against botocore's model): the service's own `Replacement` answer, no changes, a refusal, and the
change set deleted whatever happened."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ci.config import load_config
from ci.delivery import changeset, preview, replacement, stateful
from ci.delivery.clients import Target

STACK = "coagent-staging"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:123456789012:stack/{STACK}/5a1b2c3d-0000-1111-2222-333344445555"
CHANGE_SET_ID = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/bayon-preview-x/6b2c3d4e-aaaa-bbbb-cccc-dddd"
NOW = datetime.datetime(2026, 12, 1, 23, 0, tzinfo=datetime.timezone.utc)
TEMPLATE = {"Resources": {"ListingsTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}}}}


def _stack(status: str = "UPDATE_COMPLETE") -> dict:
    return {"Stacks": [{"StackId": STACK_ID, "StackName": STACK, "CreationTime": NOW, "StackStatus": status}]}


def _resource_change(action: str, logical_id: str, kind: str, replacement_: str | None = None) -> dict:
    change = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": kind}
    if action == "Modify":
        change.update(PhysicalResourceId=f"{STACK}-{logical_id}-1X2Y3Z", Replacement=replacement_,
                      Scope=["Properties"], Details=[{
                          "Target": {"Attribute": "Properties", "Name": "KeySchema", "RequiresRecreation": "Always"},
                          "Evaluation": "Static", "ChangeSource": "DirectModification"}])
    return {"Type": "Resource", "ResourceChange": change}


def _described(status: str = "CREATE_COMPLETE", changes=(), reason: str | None = None) -> dict:
    answer = {"ChangeSetName": "bayon-preview-x", "ChangeSetId": CHANGE_SET_ID, "StackId": STACK_ID,
              "StackName": STACK, "CreationTime": NOW, "ExecutionStatus": "AVAILABLE", "Status": status,
              "Changes": list(changes)}
    if reason:
        answer.update(StatusReason=reason, ExecutionStatus="UNAVAILABLE")
    return answer


@pytest.fixture
def cfn():
    return boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def _conversation(st: Stubber, described: dict, kind: str = "UPDATE", body=ANY) -> None:
    st.add_response("describe_stacks", _stack(), {"StackName": STACK})
    st.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                    {"StackName": STACK, "ChangeSetName": ANY, "TemplateBody": body, "ChangeSetType": kind,
                     "Capabilities": changeset.CAPABILITIES, "Description": ANY, "Parameters": []})
    st.add_response("describe_change_set", described)  # the waiter
    st.add_response("describe_change_set", described, {"ChangeSetName": ANY, "StackName": STACK})
    st.add_response("delete_change_set", {}, {"ChangeSetName": ANY, "StackName": STACK})


def test_the_services_replacement_answer_is_kept_and_flagged(cfn):
    described = _described(changes=[
        _resource_change("Modify", "ListingsTable", "AWS::DynamoDB::Table", "True"),
        _resource_change("Modify", "ListingsBucket", "AWS::S3::Bucket", "Conditional"),
        _resource_change("Modify", "ListingsFunction", "AWS::Lambda::Function", "False"),
        _resource_change("Remove", "UploadsBucket", "AWS::S3::Bucket")])
    with Stubber(cfn) as st:
        _conversation(st, described)
        shown = changeset.preview(cfn, STACK, TEMPLATE, {}, delay_s=1)
        st.assert_no_pending_responses()  # described and deleted
    assert shown.change_set_type == "UPDATE"
    assert [(c.action, c.logical_id, c.replacement, c.decided_by) for c in shown.changes] == [
        ("Modify", "ListingsTable", "True", "service"), ("Modify", "ListingsBucket", "Conditional", "service"),
        ("Modify", "ListingsFunction", "False", "service"), ("Remove", "UploadsBucket", "", "service")]
    diff = [replacement.Change("Modify", "ListingsTable", "AWS::DynamoDB::Table", "False", replacement.DECIDED_BY_DIFF)]
    assert replacement.completed(list(shown.changes), diff) == list(shown.changes)  # the service's word wins
    found = stateful.findings(shown.changes, ["ListingsBucket"], "staging", "backend/template.yaml")
    assert [(f.rule, f.severity, f.extra["logical_id"]) for f in found] == [
        ("infra/stateful-replacement", "error", "ListingsTable"),
        ("infra/stateful-replacement", "info", "ListingsBucket"),
        ("infra/stateful-deletion", "error", "UploadsBucket")]


def test_no_changes_is_an_empty_preview(cfn):
    reason = "The submitted information didn't contain changes. Submit different information to create a change set."
    with Stubber(cfn) as st:
        _conversation(st, _described("FAILED", reason=reason))
        shown = changeset.preview(cfn, STACK, TEMPLATE, {}, delay_s=1, max_attempts=1)
        st.assert_no_pending_responses()
    assert shown.changes == () and shown.change_set_type == "UPDATE"


def test_a_failed_change_set_is_an_error_and_still_deleted(cfn):
    with Stubber(cfn) as st:
        _conversation(st, _described("FAILED", reason="Template format error: Unresolved resource dependencies [Nope]"))
        with pytest.raises(changeset.ChangeSetError, match="Unresolved resource dependencies"):
            changeset.preview(cfn, STACK, TEMPLATE, {}, delay_s=1, max_attempts=1)
        st.assert_no_pending_responses()


def test_a_refused_change_set_is_an_error_naming_the_service_reason(cfn):
    with Stubber(cfn) as st:
        st.add_response("describe_stacks", _stack(), {"StackName": STACK})
        st.add_client_error("create_change_set", "InsufficientCapabilitiesException",
                            "Requires capabilities : [CAPABILITY_IAM]", 400)
        st.add_client_error("delete_change_set", "ChangeSetNotFound", "ChangeSet [bayon-preview-x] does not exist", 404)
        with pytest.raises(changeset.ChangeSetError, match="InsufficientCapabilitiesException: Requires capabilities"):
            changeset.preview(cfn, STACK, TEMPLATE, {})
        st.assert_no_pending_responses()  # the name is ours: its deletion is tried even so, and it is not there


def test_a_change_set_still_pending_after_the_wait_is_an_error_never_no_changes(cfn):
    with Stubber(cfn) as st:
        _conversation(st, _described("CREATE_IN_PROGRESS"))
        with pytest.raises(changeset.ChangeSetError, match="was still CREATE_IN_PROGRESS after 1 s; nothing was "
                                                            "executed"):
            changeset.preview(cfn, STACK, TEMPLATE, {}, delay_s=1, max_attempts=1)
        st.assert_no_pending_responses()  # described, and deleted all the same


def test_a_change_set_that_cannot_be_deleted_fails_the_preview_naming_it(cfn):
    with Stubber(cfn) as st:
        st.add_response("describe_stacks", _stack(), {"StackName": STACK})
        st.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID})
        described = _described(changes=[_resource_change("Add", "ListingsTable", "AWS::DynamoDB::Table")])
        st.add_response("describe_change_set", described)
        st.add_response("describe_change_set", described)
        st.add_client_error("delete_change_set", "AccessDenied", "not allowed to cloudformation:DeleteChangeSet", 403)
        with pytest.raises(changeset.ChangeSetError, match=r"could not be deleted \(AccessDenied: not allowed"):
            changeset.preview(cfn, STACK, TEMPLATE, {}, delay_s=1)
        st.assert_no_pending_responses()


def test_a_missing_stack_gets_a_create_change_set_and_its_empty_stack_is_deleted(cfn):
    with Stubber(cfn) as st:
        st.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist", 400)
        st.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID},
                        {"StackName": STACK, "ChangeSetName": ANY, "TemplateBody": ANY, "ChangeSetType": "CREATE",
                         "Capabilities": changeset.CAPABILITIES, "Description": ANY, "Parameters": []})
        described = _described(changes=[_resource_change("Add", "ListingsTable", "AWS::DynamoDB::Table")])
        st.add_response("describe_change_set", described)
        st.add_response("describe_change_set", described)
        st.add_response("delete_change_set", {}, {"ChangeSetName": ANY, "StackName": STACK})
        st.add_response("describe_stacks", _stack("REVIEW_IN_PROGRESS"), {"StackName": STACK})
        st.add_response("delete_stack", {}, {"StackName": STACK})
        shown = changeset.preview(cfn, STACK, TEMPLATE, {}, delay_s=1)
        st.assert_no_pending_responses()
    assert shown.change_set_type == "CREATE" and [c.action for c in shown.changes] == ["Add"]


def test_real_aws_gets_the_packaged_template_untouched_and_the_services_rows(cfn, monkeypatch):
    """The preview's change-set step for a target without an endpoint (AWS): the packaged SAM template is sent as it
    is (no translation, nothing dropped), the rows are the service's, and its replacement of the table fails."""
    packaged = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {
        "ListingsTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Api": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "Prod"}}}}
    monkeypatch.setattr(preview, "client", lambda aws, service, where: cfn)
    environment = load_config("environments: {staging: {region: eu-west-1, stack_name: coagent-staging, "
                              "artifacts_bucket: coagent-artifacts-staging}}").environments["staging"]
    described = _described(changes=[_resource_change("Modify", "ListingsTable", "AWS::DynamoDB::Table", "True")])
    with Stubber(cfn) as st:
        _conversation(st, described, body=json.dumps(packaged))  # exactly what was packaged
        result, found, rows = preview._change_set(
            None, Target("eu-west-1"), environment,
            preview.Request("staging", "backend/template.yaml", 1, "Resources:\n  ListingsTable:\n"), packaged)
        st.assert_no_pending_responses()
    assert result.status == "failed" and "UPDATE change set for coagent-staging" in result.reason
    assert rows == ({"action": "Modify", "logical_id": "ListingsTable", "type": "AWS::DynamoDB::Table",
                     "replacement": "True", "decided_by": "service"},)
    assert [(f.rule, f.severity, f.line, f.step) for f in found] == [
        ("infra/stateful-replacement", "error", 2, "infra/change-set/staging")]
