"""Bringing an environment back to a release it ran before: the automatic rollback, `rollback --to`, and the revert
of an attempt a dead run left behind all take this one path. The stored release is read and verified (never
rebuilt), its template and parameters put back, its frontend zip published again with this environment's
config.json, and the smoke tests run on the result."""

from __future__ import annotations

from ci.delivery import actions, stack
from ci.delivery.actions import Stored
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.held import Held
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed
from ci.delivery.state import Deployment


def restore(aws: Aws, ctx: Context, log: PhaseLog, ref: str, prefix: str) -> Stored:
    """Put release `ref` back (`{prefix}/verify`, `/stack`, `/frontend`, `/smoke` phases); PhaseFailed("rollback")
    when any of them fails."""
    timeout = ctx.environment.timeouts.rollback
    with log.phase(f"{prefix}/verify", "s3") as said:
        stored = actions.read(aws, ctx, ref, "rollback")
        template, _ = actions.deployable(aws, stored, "rollback")
        said.reason = (f"release {stored.release_id[:12]}: {len(stored.manifest.objects)} object(s), checksums "
                       "verified")
    with log.phase(f"{prefix}/stack", "cloudformation") as said:
        status = stack.put_back(aws.cloudformation, ctx.stack_name, template, stored.parameters, stored.release_id,
                                ctx.delay_s, ctx.attempts(timeout))
        said.reason = f"{ctx.stack_name} {status or 'unchanged'} with release {stored.release_id[:12]}"
    if ctx.environment.amplify:
        with log.phase(f"{prefix}/frontend", "amplify") as said:
            job = actions.publish(aws, ctx, stored, "rollback", ctx.environment.timeouts.frontend, log.progress)
            said.reason = f"Amplify job {job} of {ctx.environment.amplify.branch} succeeded"
    with log.phase(f"{prefix}/smoke", "http") as said:
        results = actions.smoke_tests(aws, ctx, "rollback", ctx.environment.timeouts.smoke)
        log.findings += actions.smoke_findings(results, f"{prefix}/smoke")
        said.reason = actions.smoke_verdict(results)
    return stored


def resume(aws: Aws, ctx: Context, log: PhaseLog, held: Held) -> None:
    """Resolve the attempt a dead run left in the state: one that never executed its change set changed nothing
    and is dropped; one that did is reverted to the release the environment ran before it (`resume/*` phases).
    Raises PhaseFailed when that revert fails: the environment is then at no known release."""
    attempt = held.state.attempt
    if attempt is None:
        return
    log.progress(f"resume: the {attempt.kind} of {attempt.release[:12]} by {attempt.owner} (run {attempt.run_id}) "
                 f"stopped in its {attempt.phase} phase; resolving it first")
    if not attempt.executed:
        stack.discard_ours(aws.cloudformation, ctx.stack_name)
        _closed(held, ctx, "unchanged", held.state.current, "interrupted before its change set ran: nothing changed")
        log.skipped("resume/revert", "cloudformation", f"run {attempt.run_id} stopped before changing anything")
        return
    if attempt.previous is None:
        _closed(held, ctx, "unrecoverable", None, "interrupted first deploy: no release to go back to")
        log.skipped("resume/revert", "cloudformation", f"run {attempt.run_id} was the first deploy of "
                    f"{ctx.env_name}: nothing to go back to; the next deploy updates the stack as it is")
        return
    try:
        restore(aws, ctx, log, attempt.previous, "resume")
    except PhaseFailed as exc:
        raise PhaseFailed("rollback", f"reverting the interrupted {attempt.kind} of run {attempt.run_id} to "
                          f"{attempt.previous[:12]} failed: {exc}", exc.evidence) from None
    _closed(held, ctx, "rolled_back", attempt.previous,
            f"interrupted in its {attempt.phase} phase; reverted to {attempt.previous[:12]} by run {ctx.run_id}")


def _closed(held: Held, ctx: Context, outcome: str, current: str | None, reason: str) -> None:
    """Record how the interrupted attempt ended and drop it from the state."""
    attempt = held.state.attempt
    record = Deployment(release=attempt.release, kind=attempt.kind, outcome=outcome, started=attempt.started,
                        finished=ctx.stamp(), run_id=attempt.run_id, previous=attempt.previous, reason=reason)
    held.save(held.state.recorded(record).model_copy(update={"current": current}))
