"""The read-only delivery functions: `history --env NAME` (releases, incidents and the last known good, from the
environment's state), `smoke --env NAME` (the smoke tests against the environment as it runs now) and what `accept`
checks first (the environment runs the release). None takes the lock: they change nothing."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import UsageError, one_line
from ci.core.report import Report
from ci.delivery import actions, history, incident, stack, state
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.outcome import report
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed


def show_history(aws: Aws, ctx: Context, log: PhaseLog) -> Report:
    """The environment's state as tables (and as JSON, `--format json`)."""
    found = None
    try:
        with log.phase("history/state", "s3") as said:
            found = _state(aws, ctx)
            said.reason = (f"{len(found.history)} deployment(s), {len(found.incidents)} incident(s); last known good "
                           f"{(found.last_known_good or 'none')[:12]}")
    except PhaseFailed:
        pass  # the step says why
    tables = history.tables(found) if found else ()
    return report("history", ctx, log, tables=tables)


def smoke(aws: Aws, ctx: Context, log: PhaseLog) -> Report:
    """The smoke tests of environments.NAME.smoke, each check's result a finding when it failed."""
    try:
        with log.phase("smoke/checks", "http") as said:
            if not ctx.environment.smoke:
                raise PhaseFailed("smoke", f"environments.{ctx.env_name}.smoke has no checks; add some (an `output` "
                                  "or `url` to GET, a `table` or `bucket` of the stack)", ())
            said.reason = actions.run_smoke(aws, ctx, log, "smoke/checks")
    except PhaseFailed:
        pass  # the step says why
    return report("smoke", ctx, log)


def running(aws: Aws, ctx: Context, ref: str, log: PhaseLog, tag: str = "") -> dict[str, str] | None:
    """The stack's outputs when the environment runs release `ref` now (its state's current release, deployed
    successfully) and `tag`, if given, names that release; None when not, or when it cannot be read (the phase
    `accept/target` says why)."""
    try:
        with log.phase("accept/target", "s3") as said:
            release_id = actions.resolve(aws, ctx, ref, "accept")
            tagged = actions.resolve(aws, ctx, tag, "accept") if tag else release_id
            if tagged != release_id:
                raise PhaseFailed("accept", f"tag {tag} names release {tagged[:12]}, not {release_id[:12]}: accept "
                                  f"the release the tag names (--release {tag})", ())
            found = _state(aws, ctx)
            if found.current != release_id:
                now = (found.current or "no known release")[:12]
                raise PhaseFailed("accept", f"{ctx.env_name} runs {now}, not {release_id[:12]}: deploy it first "
                                  f"(`deploy --env {ctx.env_name} --release {ref}`), then accept it", ())
            try:
                outputs = stack.outputs(aws.cloudformation, ctx.stack_name)
            except (ClientError, BotoCoreError) as exc:
                raise PhaseFailed("accept", f"reading the outputs of stack {ctx.stack_name} failed: "
                                  f"{one_line(exc)}", ()) from None
            said.reason = f"{ctx.env_name} runs {release_id[:12]}; stack outputs {', '.join(sorted(outputs)) or 'none'}"
            return outputs
    except PhaseFailed:
        return None  # the step says why


def incident_report(aws: Aws, ctx: Context, incident_id: str) -> str:
    """The Markdown report of one recorded incident; UsageError naming the recorded ones when there is no such id."""
    try:
        found = _state(aws, ctx)
    except PhaseFailed as exc:
        raise UsageError(str(exc)) from None
    for item in found.incidents:
        if item.id == incident_id:
            return incident.markdown(item, ctx.env_name, ctx.stack_name)
    known = ", ".join(i.id for i in found.incidents[-5:]) or "none recorded"
    raise UsageError(f"--incident {incident_id}: {ctx.env_name} has no such incident (latest: {known}); see "
                     f"`bayon history --env {ctx.env_name}`")


def _state(aws: Aws, ctx: Context) -> state.EnvState:
    try:
        return state.Store(aws.s3, ctx.bucket, ctx.env_name).load()[0]
    except state.StateError as exc:
        raise PhaseFailed("history", str(exc), ()) from None
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("history", f"reading the state from s3://{ctx.bucket} failed: {one_line(exc)}",
                          ()) from None

