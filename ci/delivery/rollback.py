"""`rollback --env NAME [--to RELEASE]`: bring the environment back to a release it ran before, by the same path as
the automatic rollback (`ci.delivery.restore`). The default target is the last known good before the current one;
a release never deployed to the environment is refused (nothing known says it works there). An attempt a dead run
left is resolved by going to the target directly. The rollback is itself an attempt in the state, so a rollback
that dies is finished by the next run; one that fails keeps it, and records an incident."""

from __future__ import annotations

from ci.core.errors import one_line
from ci.core.report import Report
from ci.delivery import actions, incident
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.held import Held, holding, incident_id
from ci.delivery.outcome import Result, report
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed
from ci.delivery.restore import restore, resume
from ci.delivery.state import Attempt, Incident

FUNCTION = "rollback"


def rollback(aws: Aws, ctx: Context, to: str, log: PhaseLog) -> Report:
    """Roll back and judge; the outcome is `rolled_back`, `unrecoverable` (the restore failed) or `unchanged` (refused,
    or nothing ran)."""
    try:
        with holding(aws, ctx, log, FUNCTION) as held:
            with log.phase("rollback/target", "bayon") as said:
                target = _target(aws, ctx, held, to)
                said.reason = (f"rolling {ctx.env_name} back from {(held.state.current or 'no known release')[:12]} "
                               f"to {target[:12]}")
            result = _back(aws, ctx, log, held, target)
    except PhaseFailed as failure:
        result = Result("unchanged", to, None, f"{failure}; nothing was changed")
    return report(FUNCTION, ctx, log, result)


def _back(aws: Aws, ctx: Context, log: PhaseLog, held: Held, target: str) -> Result:
    started, current = ctx.stamp(), held.state.current
    pending = held.state.attempt is not None
    if not pending:  # a failure to record the attempt: nothing ran yet (unchanged)
        held.begin(Attempt(release=target, kind="rollback", run_id=ctx.run_id, owner=ctx.owner, started=started,
                           phase="rollback", previous=current, stack_existed=True, executed=True))
    try:
        if pending:
            resume(aws, ctx, log, held, target)
        else:
            restore(aws, ctx, log, target, FUNCTION, held, f"rollback --to {target} by run {ctx.run_id}")
    except Exception as exc:  # noqa: BLE001 (PhaseFailed, or anything else: the environment is then lost)
        failure = exc if isinstance(exc, PhaseFailed) else PhaseFailed("rollback", f"unexpected error: "
                                                                       f"{one_line(exc)}", (one_line(exc),))
        found = Incident(id=incident_id(ctx), at=ctx.stamp(), release=target, restored=None, phase=failure.phase,
                         reason=str(failure), evidence=failure.evidence, outcome="unrecoverable", run_id=ctx.run_id)
        why = f"the rollback to {target[:12]} failed: {failure}"
        try:
            held.finish(target, "rollback", "unrecoverable", current, started, why, found, keep_attempt=True)
        except PhaseFailed as unwritten:
            why += f"; the state could not be written: {unwritten}"
        return Result("unrecoverable", target, None, why, incident.markdown(found, ctx.env_name, ctx.stack_name),
                      found.id)
    reason = f"{ctx.env_name} runs {target[:12]} again"
    if not pending:
        try:
            held.finish(target, "rollback", "rolled_back", current, started, f"manual rollback by {ctx.owner}")
        except PhaseFailed as unwritten:  # it is there; the next run finds the attempt and finishes it again
            reason += f" (the state could not be written: {unwritten})"
    return Result("rolled_back", target, target, reason)


def _target(aws: Aws, ctx: Context, held: Held, to: str) -> str:
    """The release to go back to: `to` (an id or a tag) when it was deployed here, else the last known good before
    the current one."""
    if not to:
        found = held.state.rollback_target()
        if found is None:
            raise PhaseFailed("target", f"{ctx.env_name} has no earlier known good release to roll back to; name one "
                              f"with --to (see `bayon history --env {ctx.env_name}`)", ())
        return found
    target = actions.resolve(aws, ctx, to, "target")
    if target not in held.state.deployed():
        raise PhaseFailed("target", f"release {target[:12]} was never deployed to {ctx.env_name}; roll back only to "
                          f"one it ran (see `bayon history --env {ctx.env_name}`), or deploy it", ())
    return target
