"""`deploy --env NAME --release REF`: one stored release onto one environment, rolled back automatically.

lock -> state (an interrupted attempt resolved first) -> preflight (credentials, stack status, the release's
checksums, the alarms) -> change set created and printed (`--dry-run` stops here), recorded as the attempt in
progress, executed and waited for -> CodeDeploy traffic shifting waited for (SAM `DeploymentPreference`) -> frontend
zip with this environment's config.json to Amplify -> smoke tests -> alarms watched for the monitoring window ->
the release recorded as the last known good -> lock released.

A failure before the change set executes changes nothing. Any failure after it restores the last known good release
(`ci.delivery.restore`) and records an incident; the outcome is `rolled_back`, or `unrecoverable` when there is no
release to go back to or the restore failed too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import one_line
from ci.core.report import Report, Table
from ci.delivery import actions, alarms, codedeploy, incident, stack, utc
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.held import Held, holding
from ci.delivery.outcome import Result, report
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed
from ci.delivery.preview import CHANGE_COLUMNS, CHANGE_KEYS
from ci.delivery.restore import restore, resume
from ci.delivery.state import Attempt, Deployment, Incident

FUNCTION = "deploy"
MAX_ROLLBACK_TRIGGERS = 5
"""CloudFormation's limit on a stack's rollback triggers: the first five alarms watched; the watch covers all."""
CODEDEPLOY_APPLICATION = "ServerlessDeploymentApplication"
"""The logical id SAM gives the CodeDeploy application of `DeploymentPreference`."""


@dataclass(frozen=True)
class Request:
    """What to deploy: a release id or tag; `dry_run` stops after printing the change set."""

    ref: str
    dry_run: bool = False


def deploy(aws: Aws, ctx: Context, request: Request, log: PhaseLog) -> Report:
    """Deploy and judge: the report's steps are the phases, `outcome` how the environment ended."""
    tables: list[Table] = []
    try:
        with holding(aws, ctx, log, FUNCTION) as held:
            resume(aws, ctx, log, held)
            result = _forward(aws, ctx, request, log, held, tables)
    except PhaseFailed as failure:  # lock, state, resume, preflight or change set creation: nothing executed
        result = Result("unchanged", request.ref, None, f"{failure}; nothing was changed")
    return report(FUNCTION, ctx, log, result, tuple(tables))


def _forward(aws: Aws, ctx: Context, request: Request, log: PhaseLog, held: Held, tables: list[Table]) -> Result:
    env, timeouts = ctx.environment, ctx.environment.timeouts
    started, started_at = ctx.stamp(), ctx.now()
    previous, resolved = held.state.last_known_good, None
    try:
        with log.phase("deploy/preflight", "aws") as said:
            account = _account(aws)
            found = stack.preflight(aws.cloudformation, ctx.stack_name, ctx.delay_s, ctx.attempts(timeouts.preflight),
                                    log.progress)
            resolved = actions.resolve(aws, ctx, request.ref, "preflight")
            stored = actions.read(aws, ctx, resolved, "preflight")
            template, dropped = actions.deployable(aws, stored, "preflight")
            if env.amplify and stored.frontend is None:
                raise PhaseFailed("preflight", f"release {stored.release_id[:12]} has no frontend zip, but "
                                  f"environments.{ctx.env_name}.amplify is set; package it from a static export", ())
            watched = alarms.arns(aws.cloudwatch, env.alarms)
            said.reason = (f"account {account}; {ctx.stack_name} {found.status or 'not created yet'}"
                           + (f" ({found.cleaned})" if found.cleaned else "")
                           + f"; release {stored.release_id[:12]} verified ({len(stored.manifest.objects)} objects)"
                           + (f"; emulator: left out {', '.join(i for i, _ in dropped)}" if dropped else ""))
        with log.phase("deploy/change-set", "cloudformation") as said:
            name, change = stack.create_change_set(
                aws.cloudformation, ctx.stack_name, template, stored.parameters, stored.release_id,
                list(watched.values())[:MAX_ROLLBACK_TRIGGERS], math.ceil(env.monitoring_minutes), ctx.delay_s,
                ctx.attempts(timeouts.change_set))
            tables.append(_change_table(ctx.env_name, change))
            for row in change.changes:
                log.progress(f"  {row.action:<7} {row.logical_id} ({row.resource_type})"
                             + (f" replacement {row.replacement}" if row.replacement else ""))
            if request.dry_run or not change.changes:
                stack.discard(aws.cloudformation, ctx.stack_name, name, change.change_set_type)
            if request.dry_run:
                said.reason = f"dry run: {len(change.changes)} change(s) shown, change set deleted, nothing executed"
                return Result("unchanged", stored.release_id, None, "dry run: nothing was executed")
            held.save(held.state.model_copy(update={"attempt": Attempt(
                release=stored.release_id, kind="deploy", run_id=ctx.run_id, owner=ctx.owner, started=started,
                phase="change_set", previous=previous, stack_existed=found.status is not None, executed=True)}))
            if change.changes:
                status = stack.execute(aws.cloudformation, ctx.stack_name, name, change.change_set_type,
                                       stored.release_id, stored.parameters, ctx.delay_s,
                                       ctx.attempts(timeouts.change_set))
                said.reason = f"{len(change.changes)} change(s) executed: {ctx.stack_name} {status}"
            else:
                said.reason = f"no stack changes: {ctx.stack_name} already runs this template"
    except PhaseFailed as failure:
        if held.state.attempt is None:
            if resolved:
                _record(held, ctx, resolved, "unchanged", previous, started, f"{failure}; nothing was changed")
            raise
        return _rolled_back(aws, ctx, log, held, held.state.attempt.release, failure, previous, started)
    try:
        _after_execute(aws, ctx, log, held, stored, started_at)
    except PhaseFailed as failure:
        return _rolled_back(aws, ctx, log, held, stored.release_id, failure, previous, started)
    except Exception as exc:  # noqa: BLE001 (a bug or a service answer nobody expected: still roll back)
        failure = PhaseFailed(held.state.attempt.phase, f"unexpected error: {one_line(exc)}", (one_line(exc),))
        return _rolled_back(aws, ctx, log, held, stored.release_id, failure, previous, started)
    with log.phase("deploy/record", "s3") as said:
        _record(held, ctx, stored.release_id, "deployed", previous, started, "")
        said.reason = f"{stored.release_id[:12]} is the last known good release of {ctx.env_name}"
    return Result("deployed", stored.release_id, None, "")


def _after_execute(aws: Aws, ctx: Context, log: PhaseLog, held: Held, stored: actions.Stored,
                   started_at: datetime) -> None:
    """Traffic shifting, frontend, smoke tests and alarms: any PhaseFailed here is rolled back."""
    env, timeouts = ctx.environment, ctx.environment.timeouts
    if codedeploy.shifts_traffic(stored.template):
        _phase(held, ctx, "traffic")
        with log.phase("deploy/traffic", "codedeploy") as said:
            application = _resource(aws, ctx, CODEDEPLOY_APPLICATION, "traffic")
            ids = codedeploy.wait(aws.codedeploy, application, started_at, timeouts.change_set, ctx.delay_s,
                                  ctx.clock, ctx.sleep, log.progress)
            said.reason = f"CodeDeploy shifted traffic: {', '.join(ids) or 'no deployment (code unchanged)'}"
    if env.amplify:
        _phase(held, ctx, "frontend")
        with log.phase("deploy/frontend", "amplify") as said:
            job = actions.publish(aws, ctx, stored, "frontend", timeouts.frontend, log.progress)
            said.reason = f"Amplify job {job} of {env.amplify.branch} succeeded"
    _phase(held, ctx, "smoke")
    with log.phase("deploy/smoke", "http") as said:
        results = actions.smoke_tests(aws, ctx, "smoke", timeouts.smoke)
        log.findings += actions.smoke_findings(results, "deploy/smoke")
        said.reason = actions.smoke_verdict(results)
    _phase(held, ctx, "alarms")
    with log.phase("deploy/alarms", "cloudwatch") as said:
        if env.alarms:
            alarms.watch(aws.cloudwatch, env.alarms, env.monitoring_minutes * 60, ctx.delay_s, ctx.clock, ctx.sleep,
                         log.progress)
            said.reason = f"{len(env.alarms)} alarm(s) stayed out of ALARM for {env.monitoring_minutes:g} min"
        else:
            said.reason = "no alarms configured"


def _rolled_back(aws: Aws, ctx: Context, log: PhaseLog, held: Held, failed: str, failure: PhaseFailed,
                 previous: str | None, started: str) -> Result:
    """Restore the last known good release after a failure that came after the change set ran; record the incident."""
    _phase(held, ctx, "rollback")
    evidence = list(failure.evidence)
    if previous is None:
        log.skipped("rollback/stack", "cloudformation", f"nothing to roll back to: the first deploy of {ctx.env_name}")
        outcome, why = "unrecoverable", f"{failure}; nothing to roll back to (the first deploy of {ctx.env_name})"
    else:
        try:
            restore(aws, ctx, log, previous, "rollback")
            outcome, why = "rolled_back", str(failure)
        except PhaseFailed as second:
            evidence += [f"rollback to {previous[:12]} failed: {second}", *second.evidence]
            outcome, why = "unrecoverable", f"{failure}; the rollback to {previous[:12]} failed too: {second}"
    restored = previous if outcome == "rolled_back" else None
    found = Incident(id=f"{ctx.env_name}-{utc.compact(ctx.wall())}", at=ctx.stamp(), release=failed, restored=restored,
                     phase=failure.phase, reason=str(failure), evidence=tuple(evidence), outcome=outcome,
                     run_id=ctx.run_id)
    _record(held, ctx, failed, outcome, previous, started, why, found, keep_attempt=previous is not None
            and outcome == "unrecoverable")
    return Result(outcome, failed, restored, why, incident.markdown(found, ctx.env_name, ctx.stack_name), found.id)


def _record(held: Held, ctx: Context, release_id: str, outcome: str, previous: str | None, started: str,
            reason: str, found: Incident | None = None, keep_attempt: bool = False) -> None:
    """The deploy in the history (`EnvState.recorded` moves the current and last known good releases) and its
    incident. An unrecoverable failure keeps the attempt, so the next deploy or rollback reverts it again."""
    attempt = held.state.attempt
    new = held.state.recorded(Deployment(release=release_id, kind="deploy", outcome=outcome, started=started,
                                         finished=ctx.stamp(), run_id=ctx.run_id, previous=previous, reason=reason))
    if keep_attempt and attempt is not None:
        new = new.with_attempt(attempt)
    held.save(new.with_incident(found) if found else new)


def _phase(held: Held, ctx: Context, phase: str) -> None:
    """The attempt's phase in the state, so a run that dies here is found and reverted by the next one."""
    attempt = held.state.attempt
    if attempt is not None and attempt.phase != phase:
        held.save(held.state.model_copy(update={"attempt": attempt.model_copy(update={"phase": phase})}))


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


def _change_table(env_name: str, change: stack.Executed) -> Table:
    rows = tuple(tuple(c.row()[key] for key in CHANGE_KEYS) for c in change.changes)
    return Table(title=f"change set: {env_name} ({change.change_set_type})" + ("" if rows else ", no changes"),
                 columns=CHANGE_COLUMNS, rows=rows, step="deploy/change-set")
