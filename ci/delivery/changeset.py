"""A change set for an environment's stack, created, waited for, described and ALWAYS deleted: it is never executed.

A stack that does not exist yet (or only as an empty REVIEW_IN_PROGRESS shell) gets a CREATE change set, and the
empty stack that creates is deleted with it, so the account is left as it was; an existing stack an UPDATE one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ci.core.errors import BayonError
from ci.delivery.replacement import Change

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
MAX_BODY = 51_200
"""CloudFormation's limit for TemplateBody, in bytes."""


class ChangeSetError(BayonError):
    """The service refused or failed the change set: one line with its reason (exit 1: the preview failed)."""

    exit_code = 1


@dataclass(frozen=True)
class Preview:
    """What the service said: CREATE or UPDATE, and its rows (none: no changes)."""

    change_set_type: str
    changes: tuple[Change, ...]


def described_stack(cfn, stack_name: str) -> dict | None:
    """The stack as describe_stacks shows it, or None when it does not exist."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks else None


def stack_status(cfn, stack_name: str) -> str | None:
    """The stack's status, or None when it does not exist."""
    found = described_stack(cfn, stack_name)
    return found["StackStatus"] if found else None


def rows(described: Mapping) -> list[Change]:
    """The resource rows of a describe_change_set answer (rows the service leaves blank are left out)."""
    found = []
    for entry in described.get("Changes", []):
        change = entry.get("ResourceChange") or {}
        if entry.get("Type") == "Resource" and change.get("LogicalResourceId"):
            found.append(Change(change.get("Action", ""), change["LogicalResourceId"], change.get("ResourceType", ""),
                                change.get("Replacement", "")))
    return found


def _described(cfn, stack_name: str, name: str) -> dict:
    """describe_change_set, every page's Changes joined."""
    answer = cfn.describe_change_set(ChangeSetName=name, StackName=stack_name)
    changes = list(answer.get("Changes", []))
    while answer.get("NextToken"):
        answer = cfn.describe_change_set(ChangeSetName=name, StackName=stack_name, NextToken=answer["NextToken"])
        changes += answer.get("Changes", [])
    return {**answer, "Changes": changes}


def new_name(prefix: str) -> str:
    """A change set name of ours, unique to this run."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def kind_for(status: str | None) -> str:
    """CREATE for a stack that does not exist yet (or only as an empty REVIEW_IN_PROGRESS shell), else UPDATE."""
    return "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"


def create(cfn, stack_name: str, name: str, kind: str, template: dict, parameters: Mapping[str, str],
           delay_s: int = 2, max_attempts: int = 150, description: str = "bayon preview-changes (never executed)",
           **extra) -> dict:
    """Create the change set `name` and wait for it; its description (every page). `extra` goes to
    create_change_set as is (Tags, RollbackConfiguration). The caller deletes it (or executes it)."""
    body = json.dumps(template)
    if len(body.encode()) > MAX_BODY:
        raise ChangeSetError(f"{stack_name}: the packaged template is {len(body.encode())} bytes, over "
                             f"CloudFormation's {MAX_BODY}-byte TemplateBody limit; split the stack")
    try:
        cfn.create_change_set(StackName=stack_name, ChangeSetName=name, TemplateBody=body, ChangeSetType=kind,
                              Capabilities=CAPABILITIES, Description=description,
                              Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                              **extra)
        try:
            cfn.get_waiter("change_set_create_complete").wait(
                ChangeSetName=name, StackName=stack_name,
                WaiterConfig={"Delay": delay_s, "MaxAttempts": max_attempts})
        except WaiterError:
            pass  # FAILED, or still pending after the wait: read from the description below
        return _described(cfn, stack_name, name)
    except (ClientError, BotoCoreError) as exc:
        raise ChangeSetError(f"{stack_name}: the change set could not be created: {reason(exc)}") from None


def shown(described: Mapping, stack_name: str, kind: str, waited_s: int) -> Preview:
    """What a described change set says: its rows, none when it has no changes; ChangeSetError when it failed or
    is still pending."""
    if described.get("Status") == "FAILED":
        reason = described.get("StatusReason", "")
        if any(text in reason for text in NO_CHANGES):
            return Preview(kind, ())
        raise ChangeSetError(f"{stack_name}: the change set failed: {reason or 'no reason given'}")
    if described.get("Status") != "CREATE_COMPLETE":
        raise ChangeSetError(f"{stack_name}: the change set was still {described.get('Status', 'unknown')} after "
                             f"{waited_s} s; nothing was executed, run it again")
    return Preview(kind, tuple(rows(described)))


def preview(cfn, stack_name: str, template: dict, parameters: Mapping[str, str], delay_s: int = 2,
            max_attempts: int = 150) -> Preview:
    """Create the change set, wait, describe it, and delete it (and a stack it created) whatever happened."""
    status = stack_status(cfn, stack_name)
    kind = kind_for(status)
    name = new_name("bayon-preview")
    try:
        described = create(cfn, stack_name, name, kind, template, parameters, delay_s, max_attempts)
    finally:  # also when the create call failed after the service took it (a read timeout): the name is ours
        cleanup = delete(cfn, stack_name, name, kind == "CREATE" and status is None)
    result = shown(described, stack_name, kind, delay_s * max_attempts)
    if cleanup:
        raise ChangeSetError(f"{stack_name}: the change set {name} could not be deleted ({cleanup}); delete it by "
                             "hand (it was never executed)")
    return result


def delete(cfn, stack_name: str, name: str, and_stack: bool) -> str:
    """Delete the change set (gone already is fine) and the empty stack a CREATE made; why that failed, or ""."""
    try:
        cfn.delete_change_set(ChangeSetName=name, StackName=stack_name)
        if and_stack and stack_status(cfn, stack_name) == "REVIEW_IN_PROGRESS":
            cfn.delete_stack(StackName=stack_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ChangeSetNotFound":
            return reason(exc)
    except BotoCoreError as exc:
        return reason(exc)
    return ""


def reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
