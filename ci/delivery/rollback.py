"""`rollback --env NAME [--to RELEASE]`: bring the environment back to a release it ran before, by the same path as
the automatic rollback (`ci.delivery.restore`). The default target is the last known good release before the
current one; a release never deployed to the environment is refused (nothing known says it works there)."""

from __future__ import annotations

from ci.core.report import Report
from ci.delivery import actions
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.held import Held, holding
from ci.delivery.outcome import Result, report
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed
from ci.delivery.restore import restore, resume
from ci.delivery.state import Deployment

FUNCTION = "rollback"


def rollback(aws: Aws, ctx: Context, to: str, log: PhaseLog) -> Report:
    """Roll back and judge; the outcome is `rolled_back`, `unrecoverable` (the restore failed) or `unchanged` (refused,
    or nothing ran)."""
    try:
        with holding(aws, ctx, log, FUNCTION) as held:
            resume(aws, ctx, log, held)
            result = _back(aws, ctx, to, log, held)
    except PhaseFailed as failure:
        result = Result("unchanged", to or "?", None, f"{failure}; nothing was changed")
    return report(FUNCTION, ctx, log, result)


def _back(aws: Aws, ctx: Context, to: str, log: PhaseLog, held: Held) -> Result:
    started = ctx.stamp()
    with log.phase("rollback/target", "bayon") as said:
        target = _target(aws, ctx, held, to)
        said.reason = f"rolling {ctx.env_name} back from {(held.state.current or 'no release')[:12]} to {target[:12]}"
    current = held.state.current
    try:
        restore(aws, ctx, log, target, FUNCTION)
    except PhaseFailed as failure:
        _record(held, ctx, target, "unrecoverable", current, started, str(failure))
        return Result("unrecoverable", target, None, f"the rollback to {target[:12]} failed: {failure}")
    _record(held, ctx, target, "rolled_back", current, started, f"manual rollback by {ctx.owner}")
    return Result("rolled_back", target, target, f"{ctx.env_name} runs {target[:12]} again")


def _target(aws: Aws, ctx: Context, held: Held, to: str) -> str:
    """The release to go back to: `to` (an id or a tag) when it was deployed here, else the last known good before
    the current one."""
    deployed = held.state.deployed()
    if not to:
        found = held.state.rollback_target()
        if found is None:
            raise PhaseFailed("target", f"{ctx.env_name} has no earlier known good release to roll back to; name one "
                              "with --to (see `bayon history --env " + ctx.env_name + "`)", ())
        return found
    target = actions.resolve(aws, ctx, to, "target")
    if target not in deployed:
        raise PhaseFailed("target", f"release {target[:12]} was never deployed to {ctx.env_name}; roll back only to "
                          f"one it ran (see `bayon history --env {ctx.env_name}`), or deploy it", ())
    return target


def _record(held: Held, ctx: Context, target: str, outcome: str, previous: str | None, started: str,
            reason: str) -> None:
    new = held.state.recorded(Deployment(release=target, kind="rollback", outcome=outcome, started=started,
                                         finished=ctx.stamp(), run_id=ctx.run_id, previous=previous, reason=reason))
    if outcome == "rolled_back":  # `recorded` restores the last known good; a rollback --to names its own
        new = new.model_copy(update={"current": target, "last_known_good": target})
    held.save(new)
