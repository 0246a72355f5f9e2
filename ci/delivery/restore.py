"""Bringing an environment back to a release it ran before: the automatic rollback, `rollback --to`, and the
resolution of an attempt a dead run left behind all take this one path. The stored release is read and verified
(never rebuilt), its template and parameters put back, its frontend zip published again with this environment's
config.json, and the smoke tests run on the result."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.report import Finding
from ci.delivery import actions, safeguards, stack
from ci.delivery.actions import Stored
from ci.delivery.aws import Aws
from ci.delivery.changeset import stack_status
from ci.delivery.context import Context
from ci.delivery.held import Held
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed


def restore(aws: Aws, ctx: Context, log: PhaseLog, ref: str, prefix: str, held: Held,
            why: str) -> tuple[Stored, bool]:
    """Put release `ref` back (`{prefix}/verify`, `/stack`, `/frontend`, `/smoke` phases); PhaseFailed when any of
    them fails. A protected stack's policy is lifted for the put-back (`why` recorded in the attempt: the policy
    denies undoing a replacement or removing a table the failed release added) and the stack protected again once
    the release is back; the release, and whether the stack is protected."""
    timeout = ctx.environment.timeouts.rollback
    with log.phase(f"{prefix}/verify", "s3") as said:
        stored = actions.read(aws, ctx, ref, "rollback")
        template, _ = actions.deployable(aws, stored, "rollback")
        said.reason = (f"release {stored.release_id[:12]}: {len(stored.manifest.objects)} object(s), checksums "
                       "verified")
    _lift(aws, ctx, log, held, why)
    with log.phase(f"{prefix}/stack", "cloudformation") as said:
        status = stack.put_back(aws.cloudformation, ctx.stack_name, template, stored.parameters, stored.release_id,
                                ctx.delay_s, ctx.attempts(timeout))
        said.reason = f"{ctx.stack_name} {status or 'unchanged'} with release {stored.release_id[:12]}"
    if ctx.environment.amplify:
        with log.phase(f"{prefix}/frontend", "amplify") as said:
            said.reason = actions.frontend(aws, ctx, stored, log, "rollback")
    with log.phase(f"{prefix}/smoke", "http") as said:
        said.reason = actions.run_smoke(aws, ctx, log, f"{prefix}/smoke")
    attempt = held.state.attempt
    return stored, reprotect(aws, ctx, log, attempt.policy_before if attempt is not None else None)


def _lift(aws: Aws, ctx: Context, log: PhaseLog, held: Held, why: str) -> None:
    """The stack policy lifted for a put-back (protect_stack, or a lift recorded and not put back yet), recorded
    in the attempt first, so a run dying before the protection is back leaves that to the next run; nothing when
    the stack is not there to hold a policy."""
    attempt = held.state.attempt
    if not ctx.environment.safeguards.protect_stack and not (attempt and attempt.policy_lifted):
        return
    if _status(aws, ctx) in (None, *stack.FAILED_CREATION, "REVIEW_IN_PROGRESS"):
        return
    try:
        if attempt is not None:
            held.save(held.state.with_attempt(attempt.model_copy(update={"policy_lifted": why})))
        safeguards.lift(aws, ctx, "rollback", why)
    except PhaseFailed as exc:  # the put-back is tried anyway: it may change nothing the policy denies
        log.findings.append(Finding("rollback/protect", "cloudformation", "deploy/policy-not-lifted", "warning",
                                    None, None, None, f"the stack policy of {ctx.stack_name} was not lifted for the "
                                    f"put-back ({why}): {exc}; a denied put-back fails and says so"))
        return
    log.progress(f"safeguards: stack policy lifted for the put-back: {why}")


def reprotect(aws: Aws, ctx: Context, log: PhaseLog, before: str | None = None) -> bool:
    """protect_stack's protection put back after a put-back or a lifted execution that failed, when the stack is
    there and healthy (a failed first creation is left unprotected: the next preflight deletes it); with
    protect_stack off, `before` (the policy not bayon's an override lifted, as the attempt recorded it) put back as
    it was. Whether bayon's protection is on. A failure is a warning finding, never a reason to stop."""
    protects = ctx.environment.safeguards.protect_stack
    if not protects and before is None:
        return False
    status = _status(aws, ctx)
    if status not in stack.HEALTHY:
        log.progress(f"safeguards: {ctx.stack_name} is {status or 'gone'}: not protected again")
        return False
    try:
        if not protects:
            safeguards.put_policy(aws, ctx, "protect", before, f"putting {ctx.stack_name}'s stack policy back "
                                  "failed")
            log.progress("safeguards: the stack policy found before the override is back")
            return False
        done = safeguards.protect(aws, ctx, "protect")
    except PhaseFailed as exc:
        log.findings.append(not_restored(ctx, exc))
        return False
    log.progress(f"safeguards: {done.reason}")
    return done.protected


def not_restored(ctx: Context, exc: Exception) -> Finding:
    """The warning that the stack's protection (bayon's, or the policy an override lifted) is not back."""
    return Finding("deploy/protect", "cloudformation", "deploy/protection-not-restored", "warning", None, None, None,
                   f"the stack protection of {ctx.stack_name} could not be put back: {exc}; deploy again, or set it "
                   "in the CloudFormation console")


def _status(aws: Aws, ctx: Context) -> str | None:
    try:
        return stack_status(aws.cloudformation, ctx.stack_name)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("rollback", f"describing {ctx.stack_name} failed: {exc}", ()) from None


def resume(aws: Aws, ctx: Context, log: PhaseLog, held: Held, target: str | None = None) -> bool:
    """Resolve the attempt a dead run left in the state (`resume/*` phases); whether there was one. A deploy that
    never executed its change set changed nothing and is dropped (its change sets deleted); one that did is
    reverted to the release before it; an interrupted rollback is finished. `target` (a rollback's --to) goes there
    instead. PhaseFailed when the environment cannot be brought to a release: it is then at no known one."""
    attempt = held.state.attempt
    if attempt is None:
        return False
    log.progress(f"resume: the {attempt.kind} of {attempt.release[:12]} by {attempt.owner} (run {attempt.run_id}) "
                 f"stopped in its {attempt.phase} phase; resolving it first")
    if attempt.kind == "deploy" and not _changed(aws, ctx, attempt) and target is None:
        left = stack.discard_ours(aws.cloudformation, ctx.stack_name)
        if attempt.policy_lifted:  # lifted for an execution that never ran: protected again, or the policy
            reprotect(aws, ctx, log, attempt.policy_before)  # found before it put back
        held.finish(attempt.release, attempt.kind, "unchanged", attempt.previous, attempt.started,
                    f"interrupted in its {attempt.phase} phase before its change set ran: nothing changed")
        log.skipped("resume/revert", "cloudformation", f"run {attempt.run_id} stopped before changing anything"
                    + (f"; deleted its change set(s) {', '.join(left)}" if left else ""))
        return True
    goal = target or (attempt.release if attempt.kind == "rollback" else attempt.previous)
    if goal is None:
        held.finish(attempt.release, attempt.kind, "unrecoverable", None, attempt.started,
                    "an interrupted first deploy: no release to go back to")
        log.skipped("resume/revert", "cloudformation", f"run {attempt.run_id} was the first deploy of "
                    f"{ctx.env_name}: nothing to go back to; the next deploy updates the stack as it is")
        return True
    held.at("rollback")
    try:
        restore(aws, ctx, log, goal, "resume", held,
                f"rollback --to {target} by run {ctx.run_id}" if target else
                f"resolving the interrupted {attempt.kind} of run {attempt.run_id} by run {ctx.run_id}")
    except PhaseFailed as exc:
        raise PhaseFailed("rollback", f"resolving the interrupted {attempt.kind} of run {attempt.run_id} (to "
                          f"{goal[:12]}) failed: {exc.reason}",
                          exc.evidence) from None
    why = (f"the {attempt.kind} of {attempt.release[:12]} by run {attempt.run_id} stopped in its {attempt.phase} "
           f"phase; run {ctx.run_id} brought {ctx.env_name} to {goal[:12]}")
    if target is None and attempt.kind == "deploy":  # the interrupted deploy, reverted: its own record
        held.finish(attempt.release, "deploy", "rolled_back", attempt.previous, attempt.started, why,
                    run_id=attempt.run_id)
    else:  # a rollback finished, or one to --to: a rollback record
        held.finish(goal, "rollback", "rolled_back", attempt.previous, attempt.started, why)
    return True


def _changed(aws: Aws, ctx: Context, attempt) -> bool:
    """Whether the interrupted deploy changed the stack: its attempt says it executed, or the stack is busy or
    already tagged with its release (a run killed between the execution and recording it)."""
    if attempt.executed:
        return True
    try:
        status = stack_status(aws.cloudformation, ctx.stack_name) or ""
        tagged = stack.tagged_release(aws.cloudformation, ctx.stack_name)
    except (ClientError, BotoCoreError):
        return True  # cannot tell: revert, which is safe either way
    return (status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS") or tagged == attempt.release
