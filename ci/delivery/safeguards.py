"""Production safeguards (`environments.NAME.safeguards`), the `deploy/safeguards` phase before the change set and
the stack's protection after it runs.

Before anything changes: the stack's template (as CloudFormation holds it, `TemplateStage: Original`) and parameters
copied to `bayon/snapshots/<env>/<run id>/` in the artifacts bucket, then an on-demand DynamoDB backup of each
`backup_tables` table (logical id -> its physical name in the stack), each waited AVAILABLE within
`timeouts.backup`; any failure stops the deploy there, before a change set exists. With `protect_stack`: termination
protection on and a stack policy that allows every update except replacing or deleting the stack's stateful
resources (`ci.delivery.stateful.STATEFUL`), set before the change and again after it (new stateful resources are
covered). `--override-reason` lifts the policy for the one execution (`relax`); the deploy puts it back after.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ci.delivery import stack, state, utc
from ci.delivery.aws import Aws
from ci.delivery.changeset import described_stack
from ci.delivery.context import Context
from ci.delivery.phases import PhaseFailed, PhaseTimeout, aws_call
from ci.delivery.stateful import STATEFUL

PHASE = "safeguards"
SNAPSHOTS = "bayon/snapshots/"
TABLE = "AWS::DynamoDB::Table"
ALLOW_UPDATES = {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}
DENIED = ["Update:Replace", "Update:Delete"]
EMULATOR_LACKS = "emulator: termination protection left out (moto has no UpdateTerminationProtection)"


@dataclass
class Taken:
    """What the safeguards did so far: kept when a later step fails, so the record shows it."""

    snapshot: str | None = None
    backups: list[state.Backup] = field(default_factory=list)

    def record(self, protected: bool, override_reason: str) -> state.Safeguards:
        return state.Safeguards(snapshot=self.snapshot, backups=tuple(self.backups), protected=protected,
                                override_reason=override_reason)


def policy(stateful: Iterable[str]) -> dict:
    """The stack policy: every update allowed, replacing or deleting these logical ids denied."""
    ids = sorted(stateful)
    deny = [{"Effect": "Deny", "Action": DENIED, "Principal": "*",
             "Resource": [f"LogicalResourceId/{i}" for i in ids]}] if ids else []
    return {"Statement": [ALLOW_UPDATES, *deny]}


def take(aws: Aws, ctx: Context, template: dict, taken: Taken, renew: Callable[[], None]) -> str:
    """Snapshot, backups and (protect_stack) protection of the existing stack, in that order, recorded in `taken`
    as they are done (`renew`, the lock's, between two backups); the phase's reason, or PhaseFailed("safeguards")."""
    config = ctx.environment.safeguards
    taken.snapshot = snapshot(aws, ctx)
    said = [f"template and parameters copied to s3://{ctx.bucket}/{taken.snapshot}"]
    found = aws_call(PHASE, f"listing {ctx.stack_name}'s resources failed", "allow cloudformation:ListStackResources",
                     lambda: stack.typed_resources(aws.cloudformation, ctx.stack_name))
    later = []
    for logical in config.backup_tables:
        physical = _table(ctx, found, template, logical)
        if physical is None:
            later.append(logical)
            continue
        taken.backups.append(backup(aws, ctx, logical, physical))
        renew()
    if taken.backups:
        said.append(f"{len(taken.backups)} backup(s) AVAILABLE: "
                    + ", ".join(f"{b.logical_id} ({b.name})" for b in taken.backups))
    if later:
        said.append(f"not created yet, nothing to back up: {', '.join(later)}")
    if config.protect_stack:
        said.append(protect(aws, ctx, PHASE))
    return "; ".join(said)


def snapshot(aws: Aws, ctx: Context) -> str:
    """The stack's template and parameters copied to the bucket; the key prefix they are under."""
    cfn = aws.cloudformation
    body = aws_call(PHASE, f"reading {ctx.stack_name}'s template failed", "allow cloudformation:GetTemplate",
                    lambda: cfn.get_template(StackName=ctx.stack_name, TemplateStage="Original")["TemplateBody"])
    described = aws_call(PHASE, f"describing {ctx.stack_name} failed", "allow cloudformation:DescribeStacks",
                         lambda: described_stack(cfn, ctx.stack_name)) or {}
    prefix = f"{SNAPSHOTS}{ctx.env_name}/{ctx.run_id}/"
    files = {"template.json": body if isinstance(body, str) else json.dumps(body, indent=2),
             "parameters.json": json.dumps(described.get("Parameters") or [], indent=2, default=str)}
    for name, text in files.items():
        aws_call(PHASE, f"copying the snapshot to s3://{ctx.bucket}/{prefix}{name} failed",
                 f"allow s3:PutObject on s3://{ctx.bucket}/{SNAPSHOTS}*",
                 lambda: aws.s3.put_object(Bucket=ctx.bucket, Key=f"{prefix}{name}", Body=text.encode(),
                                           ContentType="application/json"))
    return prefix


def _table(ctx: Context, found: dict[str, tuple[str, str]], template: dict, logical: str) -> str | None:
    """The physical name of a table to back up; None when the stack has none yet but the release creates it."""
    fix = f"fix environments.{ctx.env_name}.safeguards.backup_tables"
    if logical in found:
        physical, kind = found[logical]
        if kind != TABLE:
            raise PhaseFailed(PHASE, f"{logical} in {ctx.stack_name} is a {kind}, not a DynamoDB table; {fix}")
        return physical
    declared = (template.get("Resources") or {}).get(logical, {}).get("Type")
    if declared == TABLE:
        return None
    tables = sorted(i for i, (_, kind) in found.items() if kind == TABLE)
    raise PhaseFailed(PHASE, f"{ctx.stack_name} has no DynamoDB table {logical}, nor does the release (its tables: "
                      f"{', '.join(tables) or 'none'}); {fix}")


def backup(aws: Aws, ctx: Context, logical: str, physical: str) -> state.Backup:
    """One on-demand backup of the table, waited AVAILABLE within timeouts.backup."""
    name = f"bayon-{ctx.env_name}-{logical}-{utc.compact(ctx.wall())}"[:255]
    fix = (f"allow dynamodb:CreateBackup and dynamodb:DescribeBackup on {physical}, or remove {logical} from "
           f"environments.{ctx.env_name}.safeguards.backup_tables")
    details = aws_call(PHASE, f"the on-demand backup of {logical} ({physical}) failed", fix,
                       lambda: aws.dynamodb.create_backup(TableName=physical, BackupName=name)["BackupDetails"])
    arn, status = details["BackupArn"], details["BackupStatus"]
    limit = ctx.environment.timeouts.backup
    deadline = ctx.clock() + limit
    while status == "CREATING":
        if ctx.clock() >= deadline:
            raise PhaseTimeout(PHASE, f"the backup {name} of {logical} was still CREATING after {limit} s; raise "
                               f"environments.{ctx.env_name}.timeouts.backup and deploy again", (arn,))
        ctx.sleep(ctx.delay_s)
        status = aws_call(PHASE, f"reading the backup {name} of {logical} failed", fix,
                          lambda: aws.dynamodb.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]
                          ["BackupStatus"])
    if status != "AVAILABLE":
        raise PhaseFailed(PHASE, f"the backup {name} of {logical} ended {status}, not AVAILABLE; check it in the "
                          "DynamoDB console and deploy again", (arn,))
    return state.Backup(logical_id=logical, table=physical, name=name, arn=arn, status=status, created=ctx.stamp())


def protect(aws: Aws, ctx: Context, phase: str) -> str:
    """Termination protection on and the stack policy denying the replacement or deletion of the stack's stateful
    resources (as it has them now); what was set, or PhaseFailed(`phase`)."""
    cfn = aws.cloudformation
    found = aws_call(phase, f"listing {ctx.stack_name}'s resources failed", "allow cloudformation:ListStackResources",
                     lambda: stack.typed_resources(cfn, ctx.stack_name))
    stateful = sorted(i for i, (_, kind) in found.items() if kind in STATEFUL)
    aws_call(phase, f"setting {ctx.stack_name}'s stack policy failed", "allow cloudformation:SetStackPolicy",
             lambda: cfn.set_stack_policy(StackName=ctx.stack_name, StackPolicyBody=json.dumps(policy(stateful))))
    denied = (f"the stack policy denies replacing or deleting {', '.join(stateful)}" if stateful
              else "the stack policy is set (no stateful resources to deny)")
    if aws.where.emulator:
        return f"{denied}; {EMULATOR_LACKS}"
    aws_call(phase, f"enabling {ctx.stack_name}'s termination protection failed",
             "allow cloudformation:UpdateTerminationProtection",
             lambda: cfn.update_termination_protection(StackName=ctx.stack_name, EnableTerminationProtection=True))
    return f"termination protection on; {denied}"


def relax(aws: Aws, ctx: Context) -> None:
    """Lift the stack policy for this deploy's execution (`--override-reason`); PhaseFailed("change_set")."""
    aws_call("change_set", f"lifting {ctx.stack_name}'s stack policy for --override-reason failed",
             "allow cloudformation:SetStackPolicy",
             lambda: aws.cloudformation.set_stack_policy(StackName=ctx.stack_name,
                                                         StackPolicyBody=json.dumps({"Statement": [ALLOW_UPDATES]})))
