"""ci.delivery.codedeploy: which templates shift traffic, and waiting for the CodeDeploy deployments of a stack update,
every call and answer checked by botocore's Stubber against CodeDeploy's model (moto's stay in Created)."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from ci.delivery import codedeploy
from ci.delivery.phases import PhaseFailed, PhaseTimeout
from tests.delivery.fake_time import FakeTime

APP = "coagent-staging-ServerlessDeploymentApplication-1AB2"
SINCE = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
FUNCTION = {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "index.handler"}}
CANARY = {"Type": "Canary10Percent5Minutes", "Alarms": [{"Ref": "ErrorsAlarm"}]}


def _function(**properties) -> dict:
    return {**FUNCTION, "Properties": {**FUNCTION["Properties"], **properties}}


@pytest.mark.parametrize(("template", "shifts"), [
    ({"Resources": {"Listings": _function(DeploymentPreference=CANARY)}}, True),
    ({"Globals": {"Function": {"DeploymentPreference": CANARY}}, "Resources": {"Listings": FUNCTION}}, True),
    ({"Globals": {"Function": {"DeploymentPreference": CANARY}},
      "Resources": {"Listings": _function(DeploymentPreference={"Enabled": False})}}, False),
    ({"Resources": {"Listings": _function(DeploymentPreference={**CANARY, "Enabled": False})}}, False),
    ({"Resources": {"Listings": FUNCTION, "Table": {"Type": "AWS::DynamoDB::Table"}}}, False),
    ({"Globals": {"Function": {"DeploymentPreference": CANARY}},
      "Resources": {"Raw": {"Type": "AWS::Lambda::Function", "Properties": {}}}}, False),
    ({"Resources": {"Other": {"Type": "AWS::Lambda::Function", "Properties": {"DeploymentPreference": CANARY}}}},
     False),
    ({}, False),
])
def test_shifts_traffic_when_a_serverless_function_has_an_enabled_deployment_preference(template, shifts):
    assert codedeploy.shifts_traffic(template) is shifts


@pytest.fixture
def stubbed():
    client = boto3.client("codedeploy", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _listed(stubber: Stubber, *pages: list[str]) -> None:
    """list_deployments answering `pages` (a nextToken between them), its values asserted."""
    for number, ids in enumerate(pages):
        expected = {"applicationName": APP, "createTimeRange": {"start": SINCE}}
        more = {"nextToken": f"page{number + 1}"} if number + 1 < len(pages) else {}
        stubber.add_response("list_deployments", {"deployments": ids, **more},
                             expected | ({"nextToken": f"page{number}"} if number else {}))


def _info(deployment_id: str, status: str, **extra) -> dict:
    return {"deploymentInfo": {"applicationName": APP, "deploymentGroupName": "ListingsDeploymentGroup",
                               "deploymentId": deployment_id, "status": status, "createTime": SINCE,
                               "computePlatform": "Lambda", **extra}}


def _wait(client, fake: FakeTime, lines: list[str], timeout_s: float = 600) -> list[str]:
    return codedeploy.wait(client, APP, SINCE, timeout_s, 10, fake.clock, fake.sleep, lines.append)


def test_waits_for_every_deployment_to_succeed_with_a_line_per_status(stubbed):
    client, stubber = stubbed
    _listed(stubber, ["d-AAA"], ["d-BBB"])
    stubber.add_response("get_deployment", _info("d-AAA", "InProgress"), {"deploymentId": "d-AAA"})
    stubber.add_response("get_deployment", _info("d-BBB", "Created"), {"deploymentId": "d-BBB"})
    stubber.add_response("get_deployment", _info("d-AAA", "Baking"))
    stubber.add_response("get_deployment", _info("d-BBB", "InProgress"))
    stubber.add_response("get_deployment", _info("d-AAA", "Succeeded"))
    stubber.add_response("get_deployment", _info("d-BBB", "Succeeded"))
    fake, lines = FakeTime(), []
    assert _wait(client, fake, lines) == ["d-AAA", "d-BBB"]
    assert lines == ["traffic: CodeDeploy deployment d-AAA InProgress (0 s)",
                     "traffic: CodeDeploy deployment d-BBB Created (0 s)",
                     "traffic: CodeDeploy deployment d-AAA Baking (10 s)",
                     "traffic: CodeDeploy deployment d-BBB InProgress (10 s)",
                     "traffic: CodeDeploy deployment d-AAA Succeeded (20 s)",
                     "traffic: CodeDeploy deployment d-BBB Succeeded (20 s)"]
    assert fake.slept == [10, 10]


def test_no_deployment_since_the_update_means_nothing_shifted(stubbed):
    client, stubber = stubbed
    _listed(stubber, [])
    lines: list[str] = []
    assert _wait(client, FakeTime(), lines) == []
    assert lines == [f"traffic: no CodeDeploy deployment of {APP} since 2026-12-01T12:00:00+00:00"]


def test_a_failed_deployment_rolled_back_by_codedeploy_is_a_phase_failure_with_its_error(stubbed):
    client, stubber = stubbed
    _listed(stubber, ["d-AAA"])
    stubber.add_response("get_deployment", _info("d-AAA", "InProgress"))
    stubber.add_response("get_deployment", _info(
        "d-AAA", "Failed", errorInformation={"code": "ALARM_ACTIVE", "message": "One or more alarms have been "
                                             "activated: ErrorsAlarm"},
        rollbackInfo={"rollbackDeploymentId": "d-RRR", "rollbackMessage": "Rolled back by d-RRR"}))
    with pytest.raises(PhaseFailed) as failed:
        _wait(client, FakeTime(), [])
    assert type(failed.value) is PhaseFailed and failed.value.phase == "traffic" and failed.value.exit_code == 1
    assert str(failed.value) == (f"traffic: the CodeDeploy deployment d-AAA of {APP} ended Failed and CodeDeploy "
                                 "rolled it back (d-RRR): ALARM_ACTIVE: One or more alarms have been activated: "
                                 "ErrorsAlarm")
    assert failed.value.evidence == (
        f"deployment d-AAA of {APP}/ListingsDeploymentGroup: Failed: ALARM_ACTIVE: One or more alarms have been "
        "activated: ErrorsAlarm", "rollback: Rolled back by d-RRR")


def test_a_stopped_deployment_without_rollback_info_is_a_phase_failure(stubbed):
    client, stubber = stubbed
    _listed(stubber, ["d-AAA"])
    stubber.add_response("get_deployment", _info("d-AAA", "Stopped"))
    with pytest.raises(PhaseFailed) as failed:
        _wait(client, FakeTime(), [])
    assert str(failed.value) == f"traffic: the CodeDeploy deployment d-AAA of {APP} ended Stopped: no error given"
    assert failed.value.evidence == (f"deployment d-AAA of {APP}/ListingsDeploymentGroup: Stopped: no error given",)


def test_a_rollback_deployment_is_a_failure_even_while_it_succeeds(stubbed):
    client, stubber = stubbed
    _listed(stubber, ["d-RRR"])
    stubber.add_response("get_deployment", _info("d-RRR", "Succeeded",
                                                 rollbackInfo={"rollbackTriggeringDeploymentId": "d-AAA"}))
    with pytest.raises(PhaseFailed, match=r"^traffic: the CodeDeploy deployment d-RRR of \S+ is CodeDeploy's "
                                          r"rollback of d-AAA: no error given$"):
        _wait(client, FakeTime(), [])


def test_deployments_still_going_at_the_timeout_are_a_phase_timeout(stubbed):
    client, stubber = stubbed
    _listed(stubber, ["d-AAA"])
    for status in ("Queued", "InProgress", "InProgress"):
        stubber.add_response("get_deployment", _info("d-AAA", status))
    fake = FakeTime()
    with pytest.raises(PhaseTimeout) as timed_out:
        _wait(client, fake, [], timeout_s=15)
    assert str(timed_out.value) == (f"traffic: CodeDeploy deployments of {APP} were still going after 15 s (d-AAA "
                                    "InProgress); see them in the CodeDeploy console")
    assert fake.slept == [10, 5]


def test_a_refused_call_names_the_call_and_application(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("list_deployments", "ApplicationDoesNotExistException", f"No application {APP}")
    with pytest.raises(PhaseFailed) as failed:
        _wait(client, FakeTime(), [])
    assert str(failed.value) == (
        f"traffic: CodeDeploy list_deployments for application {APP} failed: ApplicationDoesNotExistException: An "
        f"error occurred (ApplicationDoesNotExistException) when calling the ListDeployments operation: No "
        f"application {APP}; check that the environment's credentials may read its CodeDeploy deployments")
