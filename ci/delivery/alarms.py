"""The CloudWatch alarms of `environments.NAME.alarms`: their ARNs (for the stack update's RollbackConfiguration),
and the watch after the smoke tests, where any of them in ALARM fails the deploy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ci.delivery.phases import MONITORING, PhaseFailed, aws_call

TYPES = ["MetricAlarm", "CompositeAlarm"]
PAGE = 100
"""describe_alarms takes at most 100 AlarmNames."""
FIRING = "ALARM"


METRIC, COMPOSITE = "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"
"""The alarm kinds as CloudFormation's rollback triggers name them."""


def arns(cloudwatch, names: Sequence[str]) -> dict[str, str]:
    """The ARNs of those of the alarms that exist, by name."""
    return {name: alarm["AlarmArn"] for name, alarm in _described(cloudwatch, names).items()}


def triggers(cloudwatch, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Those of the alarms that exist as CloudFormation rollback triggers (`Arn`, `Type`), by name."""
    return {name: {"Arn": alarm["AlarmArn"], "Type": alarm["Kind"]}
            for name, alarm in _described(cloudwatch, names).items()}


def watch(cloudwatch, names: Sequence[str], seconds: float, delay_s: float, clock: Callable[[], float],
          sleep: Callable[[float], None], progress: Callable[[str], None]) -> None:
    """Check the alarms every `delay_s` for `seconds` (0: once, so one already firing is caught); one in ALARM:
    PhaseFailed naming it and its reason; one that does not exist: PhaseFailed saying to create or unlist it."""
    if not names:
        return
    started = clock()
    shown: dict[str, str] = {}
    while True:
        found = _described(cloudwatch, names)
        missing = [name for name in names if name not in found]
        if missing:
            raise PhaseFailed(MONITORING, f"alarm {', '.join(missing)} does not exist; create it, or remove it from "
                                          "the environment's alarms in pipeline.yaml")
        waited = clock() - started
        for name in names:
            if shown.get(name) != (state := found[name]["StateValue"]):
                progress(f"{MONITORING}: alarm {name} {state} ({waited:.0f} s)")
                shown[name] = state
        firing = [found[name] for name in names if found[name]["StateValue"] == FIRING]
        if firing:
            more = f" (and {len(firing) - 1} more)" if len(firing) > 1 else ""
            raise PhaseFailed(MONITORING, f"alarm {firing[0]['AlarmName']} is in ALARM{more}: "
                                          f"{firing[0].get('StateReason') or 'no reason given'}",
                              [_evidence(alarm) for alarm in firing])
        if waited >= seconds:
            progress(f"{MONITORING}: no alarm fired in {seconds:.0f} s")
            return
        sleep(min(delay_s, seconds - waited))


def _evidence(alarm: dict) -> str:
    since = alarm.get("StateUpdatedTimestamp")
    return (f"alarm {alarm['AlarmName']} in ALARM{f' since {since.isoformat()}' if since else ''}: "
            f"{alarm.get('StateReason') or 'no reason given'}")


def _described(cloudwatch, names: Sequence[str]) -> dict[str, dict]:
    """The alarms (metric and composite) of those names that exist, by name."""
    def described() -> dict[str, dict]:
        found = {}
        for start in range(0, len(names), PAGE):
            pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=list(names[start:start + PAGE]),
                                                                         AlarmTypes=TYPES)
            for page in pages:
                found |= {a["AlarmName"]: a | {"Kind": METRIC} for a in page.get("MetricAlarms", [])}
                found |= {a["AlarmName"]: a | {"Kind": COMPOSITE} for a in page.get("CompositeAlarms", [])}
        return found

    return aws_call(MONITORING, "CloudWatch describe_alarms failed",
                    "check that the environment's credentials may read its CloudWatch alarms", described)
