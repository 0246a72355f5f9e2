"""SAM's traffic shifting (`DeploymentPreference`: canary or linear, through CodeDeploy): whether a template uses it,
and waiting for the deployments a stack update started, where a CodeDeploy rollback is a failed deploy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from typing import TypeVar

from ci.delivery.phases import TRAFFIC, PhaseFailed, PhaseTimeout, aws_call

T = TypeVar("T")
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
DONE = "Succeeded"
FAILED = ("Failed", "Stopped")
"""Of botocore's DeploymentStatus (Created, Queued, InProgress, Baking, Succeeded, Failed, Stopped, Ready)."""


def shifts_traffic(template: Mapping) -> bool:
    """A serverless function of the template has a DeploymentPreference (its own or Globals.Function's, merged as
    SAM merges them) that is not `Enabled: false`."""
    inherited = _mapping(_mapping(_mapping(template.get("Globals")).get("Function")).get("DeploymentPreference"))
    for resource in _mapping(template.get("Resources")).values():
        if isinstance(resource, Mapping) and resource.get("Type") == SERVERLESS_FUNCTION:
            own = _mapping(resource.get("Properties")).get("DeploymentPreference")
            preference = {**inherited, **_mapping(own)}
            if (own is not None or inherited) and preference.get("Enabled", True) is not False:
                return True
    return False


def _mapping(value: object) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def wait(codedeploy, application: str, since: datetime, timeout_s: float, delay_s: float,
         clock: Callable[[], float], sleep: Callable[[float], None], progress: Callable[[str], None]) -> list[str]:
    """Wait for the application's deployments created since `since` to succeed; their ids (none: nothing shifted).
    Failed, Stopped or rolled back: PhaseFailed with CodeDeploy's error as evidence; over `timeout_s`: PhaseTimeout."""
    started = clock()
    ids = _ids(codedeploy, application, since)
    if not ids:
        progress(f"{TRAFFIC}: no CodeDeploy deployment of {application} since {since.isoformat()}")
        return []
    shown: dict[str, str] = {}
    while True:
        waited = clock() - started
        statuses = {}
        for deployment_id in ids:
            info = _call(application, "get_deployment",
                         lambda: codedeploy.get_deployment(deploymentId=deployment_id))["deploymentInfo"]
            statuses[deployment_id] = status = info.get("status", "unknown")
            if shown.get(deployment_id) != status:
                progress(f"{TRAFFIC}: CodeDeploy deployment {deployment_id} {status} ({waited:.0f} s)")
                shown[deployment_id] = status
            if status in FAILED or info.get("rollbackInfo"):
                raise _failure(application, deployment_id, status, info)
        if all(status == DONE for status in statuses.values()):
            return ids
        if waited >= timeout_s:
            going = ", ".join(f"{i} {s}" for i, s in statuses.items() if s != DONE)
            raise PhaseTimeout(TRAFFIC, f"CodeDeploy deployments of {application} were still going after "
                                        f"{timeout_s:.0f} s ({going}); see them in the CodeDeploy console")
        sleep(min(delay_s, max(timeout_s - waited, 0)))


def _ids(codedeploy, application: str, since: datetime) -> list[str]:
    """The ids of the application's deployments created since `since`, every page."""
    pages = codedeploy.get_paginator("list_deployments").paginate(applicationName=application,
                                                                   createTimeRange={"start": since})
    return _call(application, "list_deployments", lambda: [i for page in pages for i in page.get("deployments", [])])


def _failure(application: str, deployment_id: str, status: str, info: Mapping) -> PhaseFailed:
    """What a failed or rolled-back deployment says: its error, and its rollback."""
    error = _mapping(info.get("errorInformation"))
    rollback = _mapping(info.get("rollbackInfo"))
    reason = f"{error.get('code', 'no code')}: {error.get('message', 'no message')}" if error else "no error given"
    evidence = [f"deployment {deployment_id} of {application}/{info.get('deploymentGroupName', '?')}: {status}: "
                f"{reason}"]
    if rollback.get("rollbackTriggeringDeploymentId"):
        what = f"is CodeDeploy's rollback of {rollback['rollbackTriggeringDeploymentId']}"
    elif rollback:
        what = f"ended {status} and CodeDeploy rolled it back ({rollback.get('rollbackDeploymentId', 'no id')})"
    else:
        what = f"ended {status}"
    if rollback.get("rollbackMessage"):
        evidence.append(f"rollback: {rollback['rollbackMessage']}")
    return PhaseFailed(TRAFFIC, f"the CodeDeploy deployment {deployment_id} of {application} {what}: {reason}",
                       evidence)


def _call(application: str, operation: str, call: Callable[[], T]) -> T:
    """One CodeDeploy call; a service error becomes PhaseFailed naming the call and the application."""
    return aws_call(TRAFFIC, f"CodeDeploy {operation} for application {application} failed",
                    "check that the environment's credentials may read its CodeDeploy deployments", call)
