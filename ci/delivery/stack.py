"""The environment's CloudFormation stack during a deploy or a rollback: the preflight of its status, a change set
created, shown and executed (then waited for), a stored release's template put back, and what the stack holds now
(outputs, resources, the release it is tagged with).

Every failure is a `PhaseFailed` of the phase it happened in, with the stack's own words as evidence: the
orchestrator (`ci.delivery.deploy`) decides from the phase whether anything changed and a rollback is due.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ci.delivery import changeset
from ci.delivery.changeset import CAPABILITIES, NO_CHANGES, ChangeSetError, described_stack, reason, stack_status
from ci.delivery.phases import PhaseFailed, PhaseTimeout
from ci.delivery.replacement import Change

DEPLOY_PREFIX = "bayon-deploy"
"""The name prefix of the deploy's change sets."""
RELEASE_TAG = "bayon:release"
"""The stack tag naming the release it runs: what a lost state is rebuilt from."""
FAILED_CREATION = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"})
"""A first creation that failed: the stack holds nothing usable and can only be deleted."""
HEALTHY = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                     "IMPORT_ROLLBACK_COMPLETE"})
"""Statuses a stack can be updated from."""
DONE_OK = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})
"""How an executed change (or a put-back template) must end; anything else failed (CloudFormation rolled it back)."""


@dataclass(frozen=True)
class Preflight:
    """What the preflight found: the stack's status (None: no stack) and what it cleaned up first."""

    status: str | None
    cleaned: str = ""


@dataclass(frozen=True)
class ChangeSet:
    """A change set created for a deploy: CREATE or UPDATE, and its rows (none: the stack runs this template)."""

    change_set_type: str
    changes: tuple[Change, ...]


Progress = Callable[[str], None]


def preflight(cfn, stack_name: str, delay_s: int, max_attempts: int, progress: Progress,
              clean: bool = True) -> Preflight:
    """The stack can take a change: not in the middle of another one (`*_IN_PROGRESS`); a failed first creation, or
    the empty shell a CREATE change set leaves, is deleted first and said so (`clean` False, a dry run: refused,
    since it changes nothing)."""
    status = _status(cfn, stack_name, "preflight")
    if status is None:
        return Preflight(None)
    if (status in FAILED_CREATION or status == "REVIEW_IN_PROGRESS") and not clean:
        raise PhaseFailed("preflight", f"{stack_name} is {status} (a first creation that never completed): a deploy "
                          "deletes it first; a dry run changes nothing, so it stops here", (f"stack status {status}",))
    if status in FAILED_CREATION or status == "REVIEW_IN_PROGRESS":
        progress(f"preflight: {stack_name} is {status} (a first creation that never completed); deleting it")
        _unprotect_failed_creation(cfn, stack_name)
        _delete_stack(cfn, stack_name, delay_s, max_attempts)
        return Preflight(None, f"deleted {stack_name}, left {status} by a failed first creation")
    if status.endswith("_IN_PROGRESS"):
        raise PhaseFailed("preflight", f"{stack_name} is {status}: another change is running on it; wait for it to "
                          "finish and deploy again", (f"stack status {status}",))
    if status == "UPDATE_ROLLBACK_FAILED":
        raise PhaseFailed("preflight", f"{stack_name} is UPDATE_ROLLBACK_FAILED; run `aws cloudformation "
                          f"continue-update-rollback --stack-name {stack_name}` and deploy again",
                          (f"stack status {status}",))
    if status not in HEALTHY:
        raise PhaseFailed("preflight", f"{stack_name} is {status}; it cannot be updated, fix it in the "
                          "CloudFormation console and deploy again", (f"stack status {status}",))
    return Preflight(status)


def create_change_set(cfn, stack_name: str, template: dict, parameters: Mapping[str, str], release_id: str,
                      triggers: Sequence[Mapping[str, str]], delay_s: int, max_attempts: int) -> tuple[str, ChangeSet]:
    """Create the deploy's change set (tagged with the release; the watched alarms as its RollbackConfiguration,
    monitored while CloudFormation deploys: the monitoring window after it is the deploy's own) and describe it:
    its name and rows. A refused or failed change set is a `change_set` PhaseFailed, and gone."""
    kind = changeset.kind_for(_status(cfn, stack_name, "change_set"))
    name = changeset.new_name(DEPLOY_PREFIX)
    try:
        described = changeset.create(cfn, stack_name, name, kind, template, parameters, delay_s, max_attempts,
                                     description=f"bayon deploy of release {release_id}",
                                     Tags=[{"Key": RELEASE_TAG, "Value": release_id}],
                                     RollbackConfiguration=_rollback_configuration(triggers))
        shown = changeset.shown(described, stack_name, kind, delay_s * max_attempts)
    except ChangeSetError as exc:
        changeset.delete(cfn, stack_name, name, kind == "CREATE")
        raise PhaseFailed("change_set", str(exc), (str(exc),)) from None
    return name, ChangeSet(kind, shown.changes)


def _rollback_configuration(triggers: Sequence[Mapping[str, str]] = ()) -> dict:
    """Always given, so a stack never keeps the triggers of an earlier update (an alarm firing then, or gone since):
    CloudFormation watches them during this update only."""
    return {"RollbackTriggers": [dict(t) for t in triggers], "MonitoringTimeInMinutes": 0}


def discard(cfn, stack_name: str, name: str, kind: str) -> str:
    """Delete a change set that will not run (a dry run, no changes, a refused execution); why that failed, or ""."""
    return changeset.delete(cfn, stack_name, name, kind == "CREATE")


def discard_ours(cfn, stack_name: str) -> list[str]:
    """Delete the deploy change sets a dead run left on the stack, never executed; their names (none when the
    stack cannot be read: the next deploy's preflight says why)."""
    try:
        summaries = cfn.list_change_sets(StackName=stack_name).get("Summaries", [])
    except (ClientError, BotoCoreError):
        return []
    ours = [c["ChangeSetName"] for c in summaries if c.get("ChangeSetName", "").startswith(DEPLOY_PREFIX)
            and c.get("ExecutionStatus") not in ("EXECUTE_COMPLETE", "EXECUTE_IN_PROGRESS")]
    return [name for name in ours if not changeset.delete(cfn, stack_name, name, False)]


class ExecutionFailed(PhaseFailed):
    """execute_change_set failed: `nothing_ran` when the service refused it before touching the stack (a denied or
    stale request); any other failure may have changed it, so it is rolled back."""

    def __init__(self, phase: str, reason: str, evidence, nothing_ran: bool) -> None:
        super().__init__(phase, reason, evidence)
        self.nothing_ran = nothing_ran


REFUSALS = frozenset({"AccessDenied", "AccessDeniedException", "ChangeSetNotFound",
                      "ChangeSetNotFoundException", "InsufficientCapabilitiesException", "Throttling",
                      "ThrottlingException", "TokenAlreadyExistsException", "ExpiredToken", "ExpiredTokenException"})
"""Error codes of an execute_change_set the service refused outright: the stack was not touched (not
InvalidChangeSetStatus: a retried call the service had taken already answers that)."""


def start(cfn, stack_name: str, name: str) -> None:
    """Execute the change set (CloudFormation starts the update and answers); ExecutionFailed when it fails."""
    try:
        cfn.execute_change_set(ChangeSetName=name, StackName=stack_name)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise ExecutionFailed("change_set", f"{stack_name}: executing the change set failed: {reason(exc)}",
                              (reason(exc),), nothing_ran=code in REFUSALS) from None
    except BotoCoreError as exc:  # no answer: it may have started
        raise ExecutionFailed("change_set", f"{stack_name}: executing the change set failed: {reason(exc)}",
                              (reason(exc),), nothing_ran=False) from None


def finish(cfn, stack_name: str, kind: str, release_id: str, parameters: Mapping[str, str],
           delay_s: int, max_attempts: int) -> str:
    """Wait for the update a started change set made; its final status, which must be CREATE/UPDATE_COMPLETE (else
    `change_set` PhaseFailed with the stack's failure events; over the wait, PhaseTimeout). The stack then carries
    the release tag."""
    status = _wait_done(cfn, stack_name, kind, delay_s, max_attempts, "change_set")
    return retag(cfn, stack_name, release_id, parameters, delay_s, max_attempts) or status


def retag(cfn, stack_name: str, release_id: str, parameters: Mapping[str, str], delay_s: int,
          max_attempts: int) -> str:
    """Tag the stack with the release when it is not yet (an update without stack changes; an emulator that keeps
    the old tags of an UPDATE change set): the template and parameters unchanged. Its status, or "" when the tag was
    right already."""
    if _tag(cfn, stack_name, "change_set") == release_id:
        return ""
    try:
        cfn.update_stack(StackName=stack_name, UsePreviousTemplate=True, Capabilities=CAPABILITIES,
                         Parameters=[{"ParameterKey": k, "UsePreviousValue": True} for k in parameters],
                         Tags=[{"Key": RELEASE_TAG, "Value": release_id}],
                         RollbackConfiguration=_rollback_configuration())
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("change_set", f"{stack_name}: tagging the stack with its release failed: {reason(exc)}",
                          (reason(exc),)) from None
    return _wait_done(cfn, stack_name, "UPDATE", delay_s, max_attempts, "change_set")


def put_back(cfn, stack_name: str, template: dict, parameters: Mapping[str, str], release_id: str,
             delay_s: int, max_attempts: int) -> str:
    """Make the stack run a stored release's template and parameters again (the rollback's one stack call):
    update_stack, or create_stack when the stack is gone; "no updates" means it already does. An update still in
    progress (a timeout, a run killed mid-update) is cancelled and waited for first. Its final status."""
    status = _settled(cfn, stack_name, delay_s, max_attempts)
    args = {"StackName": stack_name, "TemplateBody": json.dumps(template), "Capabilities": CAPABILITIES,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            "Tags": [{"Key": RELEASE_TAG, "Value": release_id}], "RollbackConfiguration": _rollback_configuration()}
    creating = status is None
    if status in FAILED_CREATION or status == "REVIEW_IN_PROGRESS":
        _delete_stack(cfn, stack_name, delay_s, max_attempts, "rollback")
        creating = True
    try:
        (cfn.create_stack if creating else cfn.update_stack)(**args)
    except ClientError as exc:
        if any(text in str(exc) for text in NO_CHANGES):
            return status or ""
        raise PhaseFailed("rollback", f"{stack_name}: putting release {release_id} back failed: {reason(exc)}",
                          (reason(exc),)) from None
    except BotoCoreError as exc:
        raise PhaseFailed("rollback", f"{stack_name}: putting release {release_id} back failed: {reason(exc)}",
                          (reason(exc),)) from None
    return _wait_done(cfn, stack_name, "CREATE" if creating else "UPDATE", delay_s, max_attempts, "rollback")


def _settled(cfn, stack_name: str, delay_s: int, max_attempts: int) -> str | None:
    """The stack's status once no change is running on it: an update in progress is cancelled (CloudFormation
    rolls it back), any change in progress waited for; PhaseTimeout when it never settles."""
    status = _status(cfn, stack_name, "rollback")
    if status == "UPDATE_IN_PROGRESS":
        try:
            cfn.cancel_update_stack(StackName=stack_name)
        except ClientError as exc:  # it finished meanwhile: read it again
            if "CancelUpdateStack cannot be called" not in str(exc):
                raise PhaseFailed("rollback", f"{stack_name}: cancelling its update failed: {reason(exc)}",
                                  (reason(exc),)) from None
    for _ in range(max_attempts):
        if not (status or "").endswith("_IN_PROGRESS") or status == "REVIEW_IN_PROGRESS":
            return status
        time.sleep(delay_s)
        status = _status(cfn, stack_name, "rollback")
    raise PhaseTimeout("rollback", f"{stack_name} was still {status} after {delay_s * max_attempts} s; nothing "
                       "could be put back", (f"stack status {status}",))


def outputs(cfn, stack_name: str) -> dict[str, str]:
    """The stack's outputs by key."""
    stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o.get("OutputValue", "") for o in (stacks[0].get("Outputs") or [])}


def resources(cfn, stack_name: str) -> dict[str, str]:
    """The stack's resources: logical id -> physical id (every page)."""
    return {logical: physical for logical, (physical, _) in typed_resources(cfn, stack_name).items()}


def typed_resources(cfn, stack_name: str) -> dict[str, tuple[str, str]]:
    """The stack's resources: logical id -> (physical id, resource type), every page."""
    found: dict[str, tuple[str, str]] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        found.update({r["LogicalResourceId"]: (r.get("PhysicalResourceId", ""), r["ResourceType"])
                      for r in page["StackResourceSummaries"]})
    return found


def tagged_release(cfn, stack_name: str) -> str | None:
    """The release the stack is tagged with (`RELEASE_TAG`): a full commit SHA, None without a stack or such tag."""
    found = described_stack(cfn, stack_name)
    tag = {t["Key"]: t["Value"] for t in (found.get("Tags") or [])}.get(RELEASE_TAG) if found else None
    return tag if tag and re.fullmatch(r"[0-9a-f]{40}", tag) else None


def _tag(cfn, stack_name: str, phase: str) -> str | None:
    try:
        return tagged_release(cfn, stack_name)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"{stack_name}: describe_stacks failed: {reason(exc)}", (reason(exc),)) from None


def _status(cfn, stack_name: str, phase: str) -> str | None:
    try:
        return stack_status(cfn, stack_name)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"{stack_name}: describe_stacks failed: {reason(exc)}", (reason(exc),)) from None


def _unprotect_failed_creation(cfn, stack_name: str) -> None:
    """Termination protection off on a failed first creation of bayon's own (tagged with a release), so it can be
    deleted; another's is left alone (its deletion then fails and says so)."""
    try:
        found = described_stack(cfn, stack_name) or {}
        ours = any(t.get("Key") == RELEASE_TAG for t in found.get("Tags") or [])
        if found.get("EnableTerminationProtection") and ours:
            cfn.update_termination_protection(StackName=stack_name, EnableTerminationProtection=False)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("preflight", f"{stack_name}: turning the termination protection of its failed creation off "
                          f"failed: {reason(exc)}; allow cloudformation:UpdateTerminationProtection",
                          (reason(exc),)) from None


def _delete_stack(cfn, stack_name: str, delay_s: int, max_attempts: int, phase: str = "preflight") -> None:
    try:
        cfn.delete_stack(StackName=stack_name)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name,
                                                     WaiterConfig={"Delay": delay_s, "MaxAttempts": max_attempts})
    except (ClientError, BotoCoreError, WaiterError) as exc:
        why = str(exc) if isinstance(exc, WaiterError) else reason(exc)
        raise PhaseFailed(phase, f"{stack_name} could not be deleted: {why}; delete it in the CloudFormation console "
                          "and deploy again", (why,)) from None


def _wait_done(cfn, stack_name: str, kind: str, delay_s: int, max_attempts: int, phase: str) -> str:
    """Wait for the stack to settle; its status when it ended CREATE/UPDATE_COMPLETE, else PhaseFailed."""
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig={"Delay": delay_s, "MaxAttempts": max_attempts})
    except WaiterError:
        pass  # a failure state or still going: decided below
    status = _status(cfn, stack_name, phase)
    if status in DONE_OK:
        return status
    if status and status.endswith("_IN_PROGRESS"):
        raise PhaseTimeout(phase, f"{stack_name} was still {status} after {delay_s * max_attempts} s",
                           (f"stack status {status}",))
    evidence = _failure_events(cfn, stack_name)
    raise PhaseFailed(phase, f"{stack_name} ended {status}" + (f": {evidence[0]}" if evidence else ""),
                      (f"stack status {status}", *evidence))


def _failure_events(cfn, stack_name: str, limit: int = 5) -> tuple[str, ...]:
    """The stack's latest failure events, as `LogicalId STATUS: reason` lines (the evidence of an incident)."""
    try:
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    except (ClientError, BotoCoreError):
        return ()
    failed = [e for e in events if "FAILED" in e.get("ResourceStatus", "") and e.get("ResourceStatusReason")]
    return tuple(f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e['ResourceStatusReason']}"
                 for e in failed[:limit])
