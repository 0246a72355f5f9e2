"""`deploy --env NAME --release REF`: one stored release onto one environment, rolled back automatically.

lock -> state (an interrupted attempt resolved first) -> promotion (an environment with `promote_from`: the release
must have succeeded there, and is copied from its bucket; `ci.delivery.promotion`) -> preflight (credentials, stack
status, the release's checksums) -> safeguards (snapshot, DynamoDB backups, stack protection;
`ci.delivery.safeguards`) -> change set created and printed (`--dry-run` stops here; a
stateful resource it replaces or removes, not in `allow_replacement`, stops a protected stack's deploy here unless
`--override-reason`), recorded as the attempt in progress, executed (the stack policy lifted for it by
`--override-reason`) and waited for -> CodeDeploy traffic shifting waited for (SAM `DeploymentPreference`) ->
frontend zip with this environment's config.json to Amplify -> smoke tests -> alarms watched for the monitoring
window -> the stack protected again (`protect_stack`; a failure is a warning, never a rollback) -> the release
recorded as the last known good -> lock released (renewed at every phase on the way). A dry run of a promoted
environment reads the release from the upstream bucket and copies nothing, records nothing.

A failure before the change set executes changes nothing. Any failure after it (an unexpected error too) restores
the last known good release (`ci.delivery.restore`) and records an incident; the outcome is `rolled_back`, or
`unrecoverable` when there is no release to go back to or the restore failed too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import BayonError, one_line
from ci.core.report import Finding, Report, Table
from ci.delivery import (actions, alarms, codedeploy, incident, promotion, replacement, safeguards, stack, state,
                         stateful)
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.held import Held, holding, incident_id
from ci.delivery.outcome import Result, report
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import MONITORING, PhaseFailed, aws_call
from ci.delivery.preview import CHANGE_COLUMNS, CHANGE_KEYS
from ci.delivery.restore import not_restored, reprotect, restore, resume
from ci.delivery.template_text import load
from ci.delivery.state import Attempt, Incident

FUNCTION = "deploy"
MAX_ROLLBACK_TRIGGERS = 5
"""CloudFormation's limit on a stack's rollback triggers: the first five alarms watched; the watch covers all."""
CODEDEPLOY_APPLICATION = "ServerlessDeploymentApplication"
"""The logical id SAM gives the CodeDeploy application of `DeploymentPreference`."""


@dataclass(frozen=True)
class Request:
    """What to deploy: a release id or tag; `dry_run` stops after printing the change set; `override_reason` lifts
    the stack policy (`safeguards.protect_stack`'s, or one found on the stack) for this execution, accepting a
    stateful replacement or removal it denies, and is recorded in the state; `upstream`: the promote_from
    environment (its context and clients) the release must have succeeded in first."""

    ref: str
    dry_run: bool = False
    override_reason: str = ""
    upstream: promotion.Upstream | None = None


@dataclass
class _Guard:
    """This deploy's safeguards: what was taken (and whether the stack is protected now), whether the stack policy
    is lifted now, the override's reason."""

    reason: str
    taken: safeguards.Taken = field(default_factory=safeguards.Taken)
    relaxed: bool = False

    def record(self) -> state.Safeguards | None:
        """What goes into the deployment's record; None when the deploy took no safeguard at all."""
        taken = self.taken
        if taken.snapshot is None and not taken.backups and not self.reason and not taken.protected:
            return None
        return taken.record(self.reason)


def deploy(aws: Aws, ctx: Context, request: Request, log: PhaseLog) -> Report:
    """Deploy and judge: the report's steps are the phases, `outcome` how the environment ended."""
    tables: list[Table] = []
    resumed = False
    try:
        with holding(aws, ctx, log, FUNCTION) as held:
            if request.dry_run and held.state.attempt is not None:
                raise PhaseFailed("state", f"an interrupted {held.state.attempt.kind} (run "
                                  f"{held.state.attempt.run_id}) is pending; a dry run changes nothing, so it stops "
                                  "here: run deploy or rollback to resolve it", ())
            try:
                resumed = resume(aws, ctx, log, held)
            except Exception as exc:  # noqa: BLE001 (PhaseFailed, or anything else: the environment is lost)
                result = _stuck(ctx, log, held, exc)
            else:
                result = _forward(aws, ctx, request, log, held, tables)
    except PhaseFailed as failure:  # lock, state, preflight or change set creation: this run executed nothing
        earlier = "; the interrupted attempt found first was resolved" if resumed else ""
        result = Result("unchanged", request.ref, None, f"{failure}; this deploy changed nothing{earlier}")
    return report(FUNCTION, ctx, log, result, tuple(tables))


def _forward(aws: Aws, ctx: Context, request: Request, log: PhaseLog, held: Held, tables: list[Table]) -> Result:
    timeouts = ctx.environment.timeouts
    started, started_at = ctx.stamp(), ctx.now()
    previous, resolved = held.state.last_known_good, None
    guard = _Guard(request.override_reason)
    try:
        ref = request.ref
        source = aws, ctx
        if request.upstream is not None:
            with log.phase("deploy/promotion", "s3") as said:
                resolved = ref = promotion.resolve(request.upstream, request.ref)
                green = promotion.require(request.upstream, ctx.env_name, resolved)
                said.reason = (f"release {resolved[:12]} deployed to {request.upstream[0].env_name} at "
                               f"{green.finished}; ")
                if request.dry_run:
                    source = promotion.reading(request.upstream, ctx)
                    said.reason += f"dry run: read from s3://{source[1].bucket}, nothing copied"
                else:
                    said.reason += promotion.copy(request.upstream, ctx, aws, resolved)
        with log.phase("deploy/preflight", "aws") as said:
            account = _account(aws)
            resolved = actions.resolve(*source, ref, "preflight")
            stored, template, status, said.reason = _preflight(aws, ctx, source, resolved, request.dry_run, log)
            said.reason = f"account {account}; {said.reason}"
        _safeguard(aws, ctx, log, held, template, status, request.dry_run, guard)
        with log.phase("deploy/change-set", "cloudformation") as said:
            watched = alarms.triggers(aws.cloudwatch, ctx.environment.alarms)
            _missing_alarms(ctx, watched, log)
            name, change = stack.create_change_set(
                aws.cloudformation, ctx.stack_name, template, stored.parameters, stored.release_id,
                list(watched.values())[:MAX_ROLLBACK_TRIGGERS], ctx.delay_s, ctx.attempts(timeouts.change_set))
            tables.append(_change_table(ctx.env_name, change))
            for row in change.changes:
                log.progress(f"  {row.action:<7} {row.logical_id} ({row.resource_type})"
                             + (f" replacement {row.replacement}" if row.replacement else ""))
            _refuse_stateful(aws, ctx, log, template, status, name, change, request.override_reason, guard)
            if request.dry_run or not change.changes:
                left = stack.discard(aws.cloudformation, ctx.stack_name, name, change.change_set_type)
                if left:
                    raise PhaseFailed("change_set", f"the change set {name} could not be deleted ({left}); delete it "
                                      "by hand (it was never executed)", ())
            if request.dry_run:
                said.reason = f"dry run: {len(change.changes)} change(s) shown, change set deleted, nothing executed"
                return Result("unchanged", stored.release_id, None, "dry run: nothing was executed")
            held.begin(Attempt(release=stored.release_id, kind="deploy", run_id=ctx.run_id, owner=ctx.owner,
                               started=started, phase="change_set", previous=previous,
                               stack_existed=status is not None,
                               executed=False))
            if change.changes and request.override_reason and status is not None and _guarded(ctx, guard):
                _lift(aws, ctx, log, held, name, change, guard)
            elif request.override_reason:
                _nothing_to_lift(ctx, log, change, status, guard)
            refused = _start(aws, ctx, held, name, change) if change.changes else None
            said.reason = (f"{change.change_set_type} change set, {len(change.changes)} change(s)"
                           + (": executed" if change.changes and refused is None else ""))
    except PhaseFailed as failure:  # the attempt, if begun, ends here: its execution was refused, nothing ran
        if guard.relaxed:
            _put_policy_back(aws, ctx, log, guard)
        if resolved and failure.phase != "lock" and not request.dry_run:
            _best_effort(log, lambda: held.finish(resolved, "deploy", "unchanged", previous, started,
                                                  f"{failure}; nothing was changed", safeguards=guard.record()))
        raise
    if refused is not None:  # the execution failed and may have changed the stack: roll it back
        log.failed("deploy/execute", "cloudformation", str(refused))
        return _rolled_back(aws, ctx, log, held, stored.release_id, refused, previous, started, guard)
    try:
        with log.phase("deploy/execute", "cloudformation") as said:
            said.reason = _executed(aws, ctx, stored, change)
        _after_execute(aws, ctx, log, held, stored, started_at)
        if _protects(ctx) or guard.relaxed:
            with log.phase("deploy/protect", "cloudformation") as said:
                said.reason = _put_policy_back(aws, ctx, log, guard)
        with log.phase("deploy/record", "s3") as said:
            held.finish(stored.release_id, "deploy", "deployed", previous, started, "", safeguards=guard.record())
            said.reason = f"{stored.release_id[:12]} is the last known good release of {ctx.env_name}"
    except PhaseFailed as failure:
        return _rolled_back(aws, ctx, log, held, stored.release_id, failure, previous, started, guard)
    except Exception as exc:  # noqa: BLE001 (a bug or an answer nobody expected: still roll back)
        failure = PhaseFailed(_phase_of(held), f"unexpected error: {one_line(exc)}", (one_line(exc),))
        return _rolled_back(aws, ctx, log, held, stored.release_id, failure, previous, started, guard)
    return Result("deployed", stored.release_id, None, "")


def _protects(ctx: Context) -> bool:
    return ctx.environment.safeguards.protect_stack


def _guarded(ctx: Context, guard: _Guard) -> bool:
    """Whether the stack has a policy an override lifts: protect_stack's, or one found on it."""
    return _protects(ctx) or guard.taken.policy is not None


def _nothing_to_lift(ctx: Context, log: PhaseLog, change: stack.ChangeSet, status: str | None,
                     guard: _Guard) -> None:
    """--override-reason given where there is nothing to lift: a warning saying why, the reason recorded only."""
    why = ("the change set has no changes" if not change.changes else
           f"{ctx.stack_name} is not created yet" if status is None else
           f"{ctx.stack_name} has no stack policy that denies anything")
    log.progress(f"  --override-reason: nothing to lift ({why}); recorded only")
    log.findings.append(Finding("deploy/change-set", "cloudformation", "deploy/override-unused", "warning", None,
                                None, None, f"--override-reason ({guard.reason}) lifted nothing: {why}; it is "
                                "recorded with the deploy only"))


def _refuse_stateful(aws: Aws, ctx: Context, log: PhaseLog, template: dict, status: str | None, name: str,
                     change: stack.ChangeSet, override: str, guard: _Guard) -> None:
    """A change set that replaces or removes a stateful resource `allow_replacement` does not accept, on a stack
    whose policy denies it: refused here, before it runs (CloudFormation would deny it half-way and roll back),
    unless --override-reason accepts it for this deploy. Where the service does not say `Replacement` (an
    emulator) a template diff decides."""
    if status is None or not _guarded(ctx, guard):
        return
    rows = list(change.changes)
    try:
        if any(c.action == "Modify" and not c.replacement for c in rows):  # an emulator never says; AWS always does
            deployed = aws_call("change_set", f"reading {ctx.stack_name}'s template failed",
                                "allow cloudformation:GetTemplate",
                                lambda: aws.cloudformation.get_template(StackName=ctx.stack_name)["TemplateBody"])
            rows = replacement.completed(rows, replacement.diff(
                load(deployed, f"the deployed template of {ctx.stack_name}"), template))
    except (PhaseFailed, BayonError) as exc:
        stack.discard(aws.cloudformation, ctx.stack_name, name, change.change_set_type)
        raise PhaseFailed("change_set", str(exc), ()) from None
    found = stateful.findings(rows, ctx.environment.allow_replacement, ctx.env_name, "template.json")
    errors = [f for f in found if f.severity == "error"]
    accepted = f"; accepted for this deploy by --override-reason: {override}"
    log.findings.extend(f if f.severity == "info" or not override else
                        dataclasses.replace(f, severity="warning", message=f.message + accepted) for f in found)
    if not errors or override:
        return
    left = stack.discard(aws.cloudformation, ctx.stack_name, name, change.change_set_type)
    fate = (f"the change set {name} was never executed but could not be deleted ({left}): delete it by hand" if left
            else "the change set was deleted, never executed")
    raise PhaseFailed("change_set", f"the change set replaces or removes stateful resource(s) the stack policy of "
                      f"{ctx.stack_name} protects ({'; '.join(f.message for f in errors)}); {fate}: to do it for "
                      "this deploy, pass --override-reason TEXT", ())


def _put_policy_back(aws: Aws, ctx: Context, log: PhaseLog, guard: _Guard) -> str:
    """The stack protected (protect_stack), or the policy an override lifted put back as it was: what was done;
    a failure is a warning finding (recorded unprotected), never a rollback of a good release."""
    lifted = f"; the policy lifted for this execution is back (override: {guard.reason})" if guard.relaxed else ""
    try:
        if _protects(ctx):
            done = safeguards.protect(aws, ctx, "protect")
            guard.taken.protected, said = done.protected, done.reason
        else:
            safeguards.put_policy(aws, ctx, "protect", guard.taken.policy or "", f"putting {ctx.stack_name}'s "
                                  "stack policy back failed")
            said = "the stack policy found before the override is back"
        guard.relaxed = False
        return said + lifted
    except PhaseFailed as exc:
        guard.taken.protected = False
        log.findings.append(not_restored(ctx, exc))
        return f"NOT protected: {exc}"


def _safeguard(aws: Aws, ctx: Context, log: PhaseLog, held: Held, template: dict, status: str | None,
               dry_run: bool, guard: _Guard) -> None:
    """The `deploy/safeguards` phase before the change set: snapshot, backups, protection of the existing stack
    (`ci.delivery.safeguards`); a failure stops the deploy before any change."""
    if dry_run:
        if status is not None:  # read only: a policy found on the stack refuses in a dry run as in the deploy
            found = safeguards.current_policy(aws, ctx, "preflight")  # protect_stack off: bayon's is lifted first
            guard.taken.policy = None if found and not _protects(ctx) and safeguards.is_ours(found) else found
        log.skipped("deploy/safeguards", "aws", "dry run: no snapshot, no backups"
                    + ("; the stack policy read" if status is not None else ""))
        return
    if status is None:
        log.skipped("deploy/safeguards", "aws", f"{ctx.stack_name} does not exist yet: nothing to copy or back up")
        return
    with log.phase("deploy/safeguards", "aws") as said:
        said.reason = safeguards.take(aws, ctx, template, guard.taken, held.renew)


def _lift(aws: Aws, ctx: Context, log: PhaseLog, held: Held, name: str, change: stack.ChangeSet,
          guard: _Guard) -> None:
    """Lift the stack policy for the execution (`--override-reason`), recorded in the attempt (a run dying before
    it is put back leaves that to the next); when the lift fails, the change set is deleted (it never ran) and the
    deploy stops there."""
    try:
        held.at("change_set", policy_lifted=f"--override-reason: {guard.reason}",
                policy_before=None if _protects(ctx) else guard.taken.policy)
        safeguards.lift(aws, ctx, "change_set")
    except PhaseFailed:
        stack.discard(aws.cloudformation, ctx.stack_name, name, change.change_set_type)
        raise
    guard.relaxed, guard.taken.protected = True, False
    log.progress(f"  stack policy lifted for this execution: {guard.reason}")


def _preflight(aws: Aws, ctx: Context, source: tuple[Aws, Context], release_id: str, dry_run: bool,
               log: PhaseLog) -> tuple[actions.Stored, dict, str | None, str]:
    """The stack's status, the release verified (read from `source`: this environment's bucket, or in a dry run of
    a promoted environment its upstream's): the release, its deployable template, the stack's status (None: not
    created yet), the phase's reason."""
    found = stack.preflight(aws.cloudformation, ctx.stack_name, ctx.delay_s,
                            ctx.attempts(ctx.environment.timeouts.preflight), log.progress, clean=not dry_run)
    stored = actions.read(*source, release_id, "preflight", bind_to=ctx.bucket)
    template, dropped = actions.deployable(aws, stored, "preflight")
    if ctx.environment.amplify and stored.frontend is None:
        raise PhaseFailed("preflight", f"release {stored.release_id[:12]} has no frontend zip, but "
                          f"environments.{ctx.env_name}.amplify is set; package it from a static export", ())
    return stored, template, found.status, (
        f"{ctx.stack_name} {found.status or 'not created yet'}" + (f" ({found.cleaned})" if found.cleaned else "")
        + f"; release {stored.release_id[:12]} verified ({len(stored.manifest.objects)} objects)"
        + (f"; emulator: left out {', '.join(i for i, _ in dropped)}" if dropped else ""))


def _missing_alarms(ctx: Context, watched: dict[str, dict[str, str]], log: PhaseLog) -> None:
    """Alarms to watch that do not exist yet: a warning now (the stack may create them), a failure if still
    missing when the monitoring window opens."""
    missing = [name for name in ctx.environment.alarms if name not in watched]
    if missing:
        log.findings.append(Finding("deploy/change-set", "cloudwatch", "deploy/alarm-missing", "warning", None, None,
                                    None, f"alarm(s) {', '.join(missing)} do not exist yet: unless this stack update "
                                    "creates them, the monitoring phase fails and the deploy rolls back; fix "
                                    f"environments.{ctx.env_name}.alarms"))


def _start(aws: Aws, ctx: Context, held: Held, name: str, change: stack.ChangeSet) -> PhaseFailed | None:
    """Execute the change set, and record that it ran before waiting for it (from here on a failure rolls back).
    An execution the service refused outright raises (nothing ran); any other failure is returned, to be rolled
    back (it may have changed the stack: the put-back is a no-op if it did not)."""
    try:
        stack.start(aws.cloudformation, ctx.stack_name, name)
    except stack.ExecutionFailed as failed:
        if failed.nothing_ran:
            stack.discard(aws.cloudformation, ctx.stack_name, name, change.change_set_type)
            raise
        _written(held, executed=True)
        return failed
    try:
        held.at("change_set", executed=True)
    except PhaseFailed as unwritten:  # the update runs: a failure to record it is one to roll back
        return unwritten
    return None


def _written(held: Held, executed: bool) -> None:
    """Record the execution; a failed write still ends in the rollback the caller does."""
    try:
        held.at("change_set", executed=executed)
    except PhaseFailed:
        pass


def _executed(aws: Aws, ctx: Context, stored: actions.Stored, change: stack.ChangeSet) -> str:
    """Wait for the executed change set (or, without stack changes, only tag the stack): the phase's reason."""
    wait = ctx.delay_s, ctx.attempts(ctx.environment.timeouts.change_set)
    if not change.changes:
        stack.retag(aws.cloudformation, ctx.stack_name, stored.release_id, stored.parameters, *wait)
        return f"no stack changes: {ctx.stack_name} already runs this template"
    status = stack.finish(aws.cloudformation, ctx.stack_name, change.change_set_type, stored.release_id,
                          stored.parameters, *wait)
    return f"{len(change.changes)} change(s) executed: {ctx.stack_name} {status}"


def _after_execute(aws: Aws, ctx: Context, log: PhaseLog, held: Held, stored: actions.Stored,
                   started_at: datetime) -> None:
    """Traffic shifting, frontend, smoke tests and alarms: any failure here is rolled back."""
    env, timeouts = ctx.environment, ctx.environment.timeouts
    if codedeploy.shifts_traffic(stored.template):
        held.at("traffic")
        with log.phase("deploy/traffic", "codedeploy") as said:
            application = _resource(aws, ctx, CODEDEPLOY_APPLICATION, "traffic")
            ids = codedeploy.wait(aws.codedeploy, application, started_at, timeouts.change_set, ctx.delay_s,
                                  ctx.clock, ctx.sleep, log.progress)
            said.reason = f"CodeDeploy shifted traffic: {', '.join(ids) or 'no deployment (code unchanged)'}"
    if env.amplify:
        held.at("frontend")
        with log.phase("deploy/frontend", "amplify") as said:
            said.reason = actions.frontend(aws, ctx, stored, log, "frontend")
    held.at("smoke")
    with log.phase("deploy/smoke", "http") as said:
        said.reason = actions.run_smoke(aws, ctx, log, "deploy/smoke")
    held.at(MONITORING)
    with log.phase("deploy/alarms", "cloudwatch") as said:
        if env.alarms:
            alarms.watch(aws.cloudwatch, env.alarms, env.monitoring_minutes * 60, ctx.delay_s, ctx.clock, ctx.sleep,
                         log.progress)
            said.reason = f"{len(env.alarms)} alarm(s) stayed out of ALARM for {env.monitoring_minutes:g} min"
        else:
            said.reason = "no alarms configured"


def _rolled_back(aws: Aws, ctx: Context, log: PhaseLog, held: Held, failed: str, failure: PhaseFailed,
                 previous: str | None, started: str, guard: _Guard) -> Result:
    """Restore the last known good release after a failure that came after the change set ran; record the incident
    (a state that cannot be written does not stop the restore: the attempt left in it is resolved next time)."""
    lost = failure if failure.phase == "lock" else _lost(log, held)
    if lost is not None:  # another run took the environment over: it resolves this attempt, not us
        return Result("unrecoverable", failed, None, f"{lost}; {ctx.env_name} is left to the run that holds it")
    evidence = list(failure.evidence)
    protected = guard.taken.protected  # a first deploy: what the safeguards set before it, if the stack existed
    if previous is None:
        log.skipped("rollback/stack", "cloudformation", f"nothing to roll back to: the first deploy of {ctx.env_name}")
        outcome, why = "unrecoverable", f"{failure}; nothing to roll back to (the first deploy of {ctx.env_name})"
    else:
        try:
            protected = restore(aws, ctx, log, previous, "rollback", held, f"automatic rollback of {failed}")[1]
            outcome, why = "rolled_back", str(failure)
        except Exception as exc:  # noqa: BLE001 (PhaseFailed, or anything else: the environment is then lost)
            second = exc if isinstance(exc, PhaseFailed) else PhaseFailed("rollback", one_line(exc), (one_line(exc),))
            evidence += [f"rollback to {previous[:12]} failed: {second}", *second.evidence]
            outcome, why = "unrecoverable", f"{failure}; the rollback to {previous[:12]} failed too: {second}"
            protected = False
    if not any(step.status == "failed" for step in log.steps):  # failed between two phases: the step says so
        log.failed("deploy/failed", "bayon", str(failure))
    if previous is None and guard.relaxed and _protects(ctx):  # an override lifted the policy of a stack that was
        protected = reprotect(aws, ctx, log)                   # there before: back on, when it is healthy
    elif guard.relaxed and not _protects(ctx):  # another's policy an override lifted: put back as it was
        _put_policy_back(aws, ctx, log, guard)
    guard.taken.protected = protected
    restored = previous if outcome == "rolled_back" else None
    found = Incident(id=incident_id(ctx), at=ctx.stamp(), release=failed, restored=restored, phase=failure.phase,
                     reason=str(failure), evidence=tuple(evidence), outcome=outcome, run_id=ctx.run_id)
    keep = previous is not None and outcome == "unrecoverable"
    _best_effort(log, lambda: held.finish(failed, "deploy", outcome, previous, started, why, found, keep_attempt=keep,
                                          safeguards=guard.record()))
    return Result(outcome, failed, restored, why, incident.markdown(found, ctx.env_name, ctx.stack_name), found.id)


def _lost(log: PhaseLog, held: Held) -> PhaseFailed | None:
    """Record the rollback phase; the failure when the lock was lost (any other failure to write is a warning)."""
    try:
        held.at("rollback")
    except PhaseFailed as exc:
        if exc.phase == "lock":
            return exc
        _warn(log, exc)
    return None


def _warn(log: PhaseLog, exc: Exception) -> None:
    log.progress(f"state: not written: {one_line(exc)}")
    log.findings.append(Finding("deploy/state", "s3", "deploy/state-not-written", "warning", None, None, None,
                                f"the state could not be written on the rollback path: {one_line(exc)}"))


def _best_effort(log: PhaseLog, write) -> None:
    """A state write on the rollback path: a failure is a warning finding, never a reason not to restore."""
    try:
        write()
    except Exception as exc:  # noqa: BLE001 (the restore matters more than the record)
        _warn(log, exc)


def _phase_of(held: Held) -> str:
    return held.state.attempt.phase if held.state.attempt is not None else "change_set"


def _account(aws: Aws) -> str:
    """The account the credentials belong to: the first call that proves they work."""
    try:
        return aws.sts.get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("preflight", f"the AWS credentials do not work: {one_line(exc)}; pass valid ones "
                          "(--aws-access-key-id/--aws-secret-access-key or --aws-role-arn with OIDC)", ()) from None


def _resource(aws: Aws, ctx: Context, logical_id: str, phase: str) -> str:
    try:
        found = stack.resources(aws.cloudformation, ctx.stack_name)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"listing {ctx.stack_name}'s resources failed: {one_line(exc)}", ()) from None
    if logical_id not in found:
        raise PhaseFailed(phase, f"{ctx.stack_name} has no {logical_id}, which SAM's DeploymentPreference creates", ())
    return found[logical_id]


def _change_table(env_name: str, change: stack.ChangeSet) -> Table:
    rows = tuple(tuple(c.row()[key] for key in CHANGE_KEYS) for c in change.changes)
    return Table(title=f"change set: {env_name} ({change.change_set_type})" + ("" if rows else ", no changes"),
                 columns=CHANGE_COLUMNS, rows=rows, step="deploy/change-set")


def _stuck(ctx: Context, log: PhaseLog, held: Held, exc: Exception) -> Result:
    """The interrupted attempt could not be resolved: the environment is at no known release; recorded (best
    effort) with an incident, the attempt kept for the next run."""
    failure = exc if isinstance(exc, PhaseFailed) else PhaseFailed("rollback", f"unexpected error: {one_line(exc)}",
                                                                   (one_line(exc),))
    if not any(step.status == "failed" for step in log.steps):
        log.failed("resume/revert", "bayon", str(failure))
    attempt = held.state.attempt
    if attempt is None:  # the state was written: the resolution ended, only its record failed
        return Result("unrecoverable", "", None, f"{failure}; check `bayon history --env {ctx.env_name}`")
    why = (f"{failure}; {ctx.env_name} is at no known release: fix the cause and run `bayon rollback --env "
           f"{ctx.env_name} --to RELEASE`")
    found = Incident(id=incident_id(ctx), at=ctx.stamp(), release=attempt.release, restored=None,
                     phase=failure.phase, reason=str(failure), evidence=failure.evidence, outcome="unrecoverable",
                     run_id=ctx.run_id)
    _best_effort(log, lambda: held.finish(attempt.release, attempt.kind, "unrecoverable", attempt.previous,
                                          attempt.started, why, found, keep_attempt=True))
    return Result("unrecoverable", attempt.release, None, why, incident.markdown(found, ctx.env_name, ctx.stack_name),
                  found.id)
