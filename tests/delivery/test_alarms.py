"""ci.delivery.alarms against the moto server: ARNs of the alarms that exist, and the watch (an alarm in ALARM fails
it, naming the alarm and its reason; all OK through the window passes; a missing alarm fails)."""

from __future__ import annotations

import pytest

from ci.delivery import alarms
from ci.delivery.phases import PhaseFailed
from tests.delivery.conftest import moto_client
from tests.delivery.fake_time import FakeTime

SHARES_MOTO = True


@pytest.fixture
def cloudwatch(moto_url, request):
    """A CloudWatch client, and alarms named after the test (moto's state lives as long as the module's server)."""
    client = moto_client(moto_url, "cloudwatch")
    prefix = request.node.name[:40]
    names = [f"{prefix}-5xx", f"{prefix}-latency"]
    for name in names:
        client.put_metric_alarm(AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
                                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    yield client, names
    client.delete_alarms(AlarmNames=names)


def _watch(client, names, seconds: float, fake: FakeTime, lines: list[str], delay_s: float = 20) -> None:
    alarms.watch(client, names, seconds, delay_s, fake.clock, fake.sleep, lines.append)


def test_arns_of_the_alarms_that_exist(cloudwatch):
    client, names = cloudwatch
    assert alarms.arns(client, [*names, "not-there"]) == {
        name: f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}" for name in names}


def test_all_ok_through_the_window_passes_after_polling_it(cloudwatch):
    client, names = cloudwatch
    fake, lines = FakeTime(), []
    _watch(client, names, 60, fake, lines)
    assert fake.slept == [20, 20, 20]
    assert lines == [f"monitoring: alarm {names[0]} OK (0 s)", f"monitoring: alarm {names[1]} OK (0 s)",
                     "monitoring: no alarm fired in 60 s"]


def test_an_alarm_in_alarm_fails_naming_it_and_its_reason(cloudwatch):
    client, names = cloudwatch
    client.set_alarm_state(AlarmName=names[1], StateValue="ALARM", StateReason="simulated: canary errors")
    fake, lines = FakeTime(), []
    with pytest.raises(PhaseFailed) as failed:
        _watch(client, names, 300, fake, lines)
    assert failed.value.phase == "monitoring" and failed.value.exit_code == 1
    assert str(failed.value) == f"monitoring: alarm {names[1]} is in ALARM: simulated: canary errors"
    [evidence] = failed.value.evidence
    assert evidence.startswith(f"alarm {names[1]} in ALARM since ") and evidence.endswith(": simulated: canary errors")
    assert fake.slept == [] and lines[-1] == f"monitoring: alarm {names[1]} ALARM (0 s)"


def test_an_alarm_that_fires_during_the_window_is_caught_at_the_next_poll(cloudwatch):
    client, names = cloudwatch
    fake, lines = FakeTime(), []

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.slept) == 2:
            client.set_alarm_state(AlarmName=names[0], StateValue="ALARM", StateReason="5xx over 1")

    with pytest.raises(PhaseFailed, match=rf"^monitoring: alarm {names[0]} is in ALARM: 5xx over 1$"):
        alarms.watch(client, names, 300, 20, fake.clock, sleep, lines.append)
    assert fake.slept == [20, 20]
    assert lines[-1] == f"monitoring: alarm {names[0]} ALARM (40 s)"


def test_a_window_of_zero_still_checks_once(cloudwatch):
    client, names = cloudwatch
    fake = FakeTime()
    _watch(client, names, 0, fake, [])
    client.set_alarm_state(AlarmName=names[0], StateValue="ALARM", StateReason="already firing")
    client.set_alarm_state(AlarmName=names[1], StateValue="ALARM", StateReason="also firing")
    with pytest.raises(PhaseFailed) as failed:
        _watch(client, names, 0, fake, [])
    assert str(failed.value) == f"monitoring: alarm {names[0]} is in ALARM (and 1 more): already firing"
    assert len(failed.value.evidence) == 2 and fake.slept == []


def test_a_missing_alarm_fails_saying_to_create_or_unlist_it(cloudwatch):
    client, names = cloudwatch
    with pytest.raises(PhaseFailed) as failed:
        _watch(client, [names[0], "coagent-nope"], 60, FakeTime(), [])
    assert str(failed.value) == ("monitoring: alarm coagent-nope does not exist; create it, or remove it from the "
                                 "environment's alarms in pipeline.yaml")


def test_no_alarms_configured_makes_no_call_and_waits_for_nothing():
    fake, lines = FakeTime(), []
    alarms.watch(None, [], 300, 20, fake.clock, fake.sleep, lines.append)  # no client: a call would raise
    assert (fake.slept, lines) == ([], [])
