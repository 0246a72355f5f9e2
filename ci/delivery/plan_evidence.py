"""The deployment plan's AWS evidence: the stored release (this environment's bucket, or the one it is promoted from
while it is not copied yet), a change set of it for the stack (created, listed, always deleted, never executed), the
environment's state (what runs there, the rollback target with its objects verified) and the record of the release
on the environment before. Read-only: no lock is taken, nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import BayonError, one_line
from ci.delivery import actions, plan, promotion, release, replacement, stack, state
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.phases import PhaseFailed
from ci.delivery.replacement import Change
from ci.delivery.template_text import load

PHASE = "plan"


class PlanError(BayonError):
    """The release to plan cannot be read (not stored, or damaged): one line with the fix."""

    exit_code = 1


@dataclass(frozen=True)
class Where:
    """One environment's clients and context."""

    aws: Aws
    ctx: Context


@dataclass(frozen=True)
class Found:
    """What AWS says: the release, what runs in the environment now (None: nothing, or unknown: `state_why`), the
    change set's rows (None: none could be made, `change_set` says why) and two checklist items."""

    release_id: str
    tags: tuple[str, ...]
    deployed: str | None
    state_why: str
    changes: tuple[Change, ...] | None
    change_set: str
    staging: plan.Item
    rollback: plan.Item


def gather(here: Where, before: Where | None, ref: str) -> Found:
    stored, bucket = _stored(here, before, ref)
    changes, said = change_set(here, stored, bucket)
    try:
        now = _state(here)
        state_why = ""
    except (state.StateError, ClientError, BotoCoreError) as exc:
        now, state_why = None, f"reading the state of {here.ctx.env_name} failed: {one_line(exc)}"
    return Found(stored.release_id, stored.manifest.tags, now.current if now else None, state_why, changes, said,
                 staging(before, stored.release_id), rollback(here, now, stored.release_id, state_why))


def _stored(here: Where, before: Where | None, ref: str) -> tuple[actions.Stored, str]:
    """The release from this environment's bucket, else from the one it is promoted from (read for this
    environment's parameters); PlanError when neither has it."""
    where = here
    try:
        release.resolve(here.aws.s3, here.ctx.bucket, ref)
    except release.ReleaseNotFound:
        if before is None:
            raise PlanError(f"release {ref} is not in s3://{here.ctx.bucket}; package it first (`package --env "
                            f"{here.ctx.env_name}`)") from None
        where = Where(*promotion.reading((before.ctx, before.aws), here.ctx))
    except (release.ReleaseError, ClientError, BotoCoreError) as exc:
        raise PlanError(f"resolving {ref} in s3://{here.ctx.bucket} failed: {one_line(exc)}") from None
    try:
        return actions.read(where.aws, where.ctx, ref, PHASE, bind_to=here.ctx.bucket), where.ctx.bucket
    except PhaseFailed as exc:
        raise PlanError(str(exc)) from None


def change_set(here: Where, stored: actions.Stored, bucket: str) -> tuple[tuple[Change, ...] | None, str]:
    """The change set of the release for the stack, deleted whatever happens: its rows and what was done, or None
    and why. On an emulator (which never says what replaces) the rows come from a template diff."""
    cfn, name = here.aws.cloudformation, here.ctx.stack_name
    try:
        template, _ = actions.deployable(here.aws, stored, PHASE)
        made, change = stack.create_change_set(cfn, name, template, stored.parameters, stored.release_id, (),
                                               here.ctx.delay_s,
                                               here.ctx.attempts(here.ctx.environment.timeouts.change_set))
    except PhaseFailed as exc:
        return None, f"no change set: {exc.reason}"
    left = stack.discard(cfn, name, made, change.change_set_type)
    changes = change.changes
    try:
        if here.aws.where.emulator:
            deployed = {} if change.change_set_type == "CREATE" else load(
                cfn.get_template(StackName=name)["TemplateBody"], f"the deployed template of {name}")
            changes = tuple(replacement.diff(deployed, template))
    except (ClientError, BotoCoreError, BayonError) as exc:
        return None, f"reading the deployed template of {name} failed: {one_line(exc)}"
    kept = f"; it could not be deleted ({left}): delete it by hand" if left else "; deleted, never executed"
    return changes, (f"{change.change_set_type} change set {made} of release {stored.release_id[:12]} (from "
                     f"s3://{bucket}) for {name}: {len(changes)} change(s){kept}")


def _state(where: Where) -> state.EnvState:
    return state.Store(where.aws.s3, where.ctx.bucket, where.ctx.env_name).load()[0]


def staging(before: Where | None, release_id: str) -> plan.Item:
    """The release's green deploy on the environment it is promoted from, from that environment's state."""
    if before is None:
        return plan.staging_item(None, None, release_id)
    try:
        found = _state(before)
    except (state.StateError, ClientError, BotoCoreError) as exc:
        return plan.staging_item(before.ctx.env_name, None, release_id, f"reading it failed: {one_line(exc)}")
    record = promotion.cleared(found, release_id)
    return plan.staging_item(before.ctx.env_name, record and {"finished": record.finished, "run_id": record.run_id},
                             release_id)


def rollback(here: Where, now: state.EnvState | None, release_id: str, why: str) -> plan.Item:
    """The release a failed deploy would go back to, its objects verified in this environment's bucket."""
    env = here.ctx.env_name
    if now is None:
        return plan.rollback_item(env, None, why)
    if now.last_known_good is None and not now.history:
        return plan.rollback_item(env, None, first=True)
    target = now.last_known_good if now.last_known_good != release_id else now.rollback_target()
    if target is None:
        return plan.rollback_item(env, None)
    try:
        release.verify(here.aws.s3, here.ctx.bucket, release.manifest(here.aws.s3, here.ctx.bucket, target))
    except (release.ReleaseError, ClientError, BotoCoreError) as exc:
        return plan.rollback_item(env, target, f"{target[:12]}: {one_line(exc)}")
    return plan.rollback_item(env, target)
