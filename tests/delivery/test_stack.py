"""ci.delivery.stack on the CloudFormation statuses moto never produces (a failed first creation, an update rolled
back by CloudFormation, a rollback that failed, a stack busy with another change), through botocore's Stubber: every
call and answer checked against CloudFormation's model."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from ci.delivery import stack
from ci.delivery.phases import PhaseFailed, PhaseTimeout

NAME = "coagent-staging"
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def stubbed():
    client = boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _described(stubber: Stubber, status: str, times: int = 1) -> None:
    for _ in range(times):
        stubber.add_response("describe_stacks", {"Stacks": [{"StackName": NAME, "CreationTime": NOW,
                                                             "StackStatus": status}]}, {"StackName": NAME})


def test_a_stack_busy_with_another_change_is_refused(stubbed):
    cfn, stubber = stubbed
    _described(stubber, "UPDATE_IN_PROGRESS")
    with pytest.raises(PhaseFailed, match="UPDATE_IN_PROGRESS: another change is running on it; wait"):
        stack.preflight(cfn, NAME, 1, 3, print)


def test_a_failed_first_creation_is_deleted_and_reported(stubbed):
    cfn, stubber = stubbed
    _described(stubber, "ROLLBACK_COMPLETE")
    stubber.add_response("describe_stacks", {"Stacks": [{  # bayon's own (its release tag), protected: unprotected
        "StackName": NAME, "CreationTime": NOW, "StackStatus": "ROLLBACK_COMPLETE", "EnableTerminationProtection": True,
        "Tags": [{"Key": stack.RELEASE_TAG, "Value": "1" * 40}]}]}, {"StackName": NAME})
    stubber.add_response("update_termination_protection", {"StackId": "arn:aws:cloudformation:eu-west-1:1:stack/x/y"},
                         {"StackName": NAME, "EnableTerminationProtection": False})
    stubber.add_response("delete_stack", {}, {"StackName": NAME})
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist")
    lines: list[str] = []
    found = stack.preflight(cfn, NAME, 1, 3, lines.append)
    assert (found.status, found.cleaned) == (None, f"deleted {NAME}, left ROLLBACK_COMPLETE by a failed first creation")
    assert "ROLLBACK_COMPLETE" in lines[0]


def test_a_failed_rollback_says_to_continue_it(stubbed):
    cfn, stubber = stubbed
    _described(stubber, "UPDATE_ROLLBACK_FAILED")
    with pytest.raises(PhaseFailed, match=f"continue-update-rollback --stack-name {NAME}"):
        stack.preflight(cfn, NAME, 1, 3, print)


def test_an_update_cloudformation_rolled_back_fails_with_its_events(stubbed):
    cfn, stubber = stubbed
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": "bayon-deploy-1", "StackName": NAME})
    _described(stubber, "UPDATE_ROLLBACK_COMPLETE", times=2)  # the waiter's poll, then the verdict's
    stubber.add_response("describe_stack_events", {"StackEvents": [
        {"StackId": "arn:aws:cloudformation:eu-west-1:1:stack/x/1", "EventId": "1", "StackName": NAME,
         "LogicalResourceId": "ListingsFunction", "ResourceStatus": "UPDATE_FAILED", "Timestamp": NOW,
         "ResourceStatusReason": "Resource handler returned message: \"MemorySize 1 is below 128\""}]})
    with pytest.raises(PhaseFailed) as failed:
        stack.start(cfn, NAME, "bayon-deploy-1")
        stack.finish(cfn, NAME, "UPDATE", "a" * 40, {}, 1, 1)
    assert failed.value.phase == "change_set"
    assert "ended UPDATE_ROLLBACK_COMPLETE: ListingsFunction UPDATE_FAILED" in str(failed.value)
    assert failed.value.evidence[0] == "stack status UPDATE_ROLLBACK_COMPLETE"


def test_a_stack_still_updating_after_the_wait_is_a_timeout(stubbed):
    cfn, stubber = stubbed
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": "bayon-deploy-1", "StackName": NAME})
    _described(stubber, "UPDATE_IN_PROGRESS", times=2)
    with pytest.raises(PhaseTimeout, match="still UPDATE_IN_PROGRESS after 1 s"):
        stack.start(cfn, NAME, "bayon-deploy-1")
        stack.finish(cfn, NAME, "UPDATE", "a" * 40, {}, 1, 1)


def test_putting_back_a_template_cloudformation_already_restored_is_no_update(stubbed):
    cfn, stubber = stubbed
    _described(stubber, "UPDATE_ROLLBACK_COMPLETE")
    stubber.add_client_error("update_stack", "ValidationError", "No updates are to be performed.")
    assert stack.put_back(cfn, NAME, {"Resources": {}}, {}, "a" * 40, 1, 1) == "UPDATE_ROLLBACK_COMPLETE"


def test_an_update_still_running_is_cancelled_before_the_release_is_put_back(stubbed):
    cfn, stubber = stubbed
    _described(stubber, "UPDATE_IN_PROGRESS")
    stubber.add_response("cancel_update_stack", {}, {"StackName": NAME})
    _described(stubber, "UPDATE_ROLLBACK_IN_PROGRESS")
    _described(stubber, "UPDATE_ROLLBACK_COMPLETE")
    stubber.add_response("update_stack", {"StackId": "arn:aws:cloudformation:eu-west-1:1:stack/x/1"})
    _described(stubber, "UPDATE_COMPLETE", times=2)
    assert stack.put_back(cfn, NAME, {"Resources": {}}, {}, "a" * 40, 0, 5) == "UPDATE_COMPLETE"


def test_a_stack_that_never_settles_cannot_be_put_back(stubbed):
    cfn, stubber = stubbed
    _described(stubber, "UPDATE_ROLLBACK_IN_PROGRESS", times=3)
    with pytest.raises(PhaseTimeout, match="still UPDATE_ROLLBACK_IN_PROGRESS after 0 s; nothing could be put back"):
        stack.put_back(cfn, NAME, {"Resources": {}}, {}, "a" * 40, 0, 2)
