"""Production safeguards (`environments.NAME.safeguards`), the `deploy/safeguards` phase before the change set and
the stack's protection after it runs.

Before anything changes: the stack's template (as CloudFormation holds it, `TemplateStage: Original`) and parameters
copied to `bayon/snapshots/<env>/<run id>/` in the artifacts bucket, then an on-demand DynamoDB backup of each
`backup_tables` table (logical id -> its physical name in the stack), each waited AVAILABLE within
`timeouts.backup`; any failure stops the deploy there, before a change set exists. With `protect_stack`: termination
protection on and a stack policy that allows every update except replacing or deleting the stack's stateful
resources (`ci.delivery.stateful.STATEFUL`) but those `allow_replacement` accepts, set before the change and again
once the release is judged good (new stateful resources are covered then, not while a rollback may still remove
them). `--override-reason` lifts the policy for the one execution (`lift`); a rollback lifts it for its put-back;
both put it back after. With `protect_stack` off, a policy bayon set earlier is replaced by allow-all (AWS cannot
delete a stack policy); termination protection is left as it is, and said so.
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
    protected: bool = False
    """Whether the stack is protected now (policy and termination protection both set, as `protect` said)."""
    policy: str | None = None
    """The stack's policy body before the change, when it has one that denies something (None: none)."""

    def record(self, override_reason: str) -> state.Safeguards:
        return state.Safeguards(snapshot=self.snapshot, backups=tuple(self.backups), protected=self.protected,
                                override_reason=override_reason)


@dataclass(frozen=True)
class Protection:
    """What `protect` set: the phase's words, and whether both the policy and termination protection are on."""

    reason: str
    protected: bool


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
    taken.policy = current_policy(aws, ctx, PHASE)
    if config.protect_stack:
        done = protect(aws, ctx, PHASE)
        taken.protected = done.protected
        said.append(done.reason)
    elif taken.policy is not None and is_ours(taken.policy):
        lift(aws, ctx, PHASE)
        taken.policy = None
        said.append("protect_stack is off: the stack policy bayon set is replaced by allow-all (AWS cannot delete "
                    "one); termination protection is left as it is (turn it off with `aws cloudformation "
                    f"update-termination-protection --no-enable-termination-protection --stack-name {ctx.stack_name}`)")
    return "; ".join(said)


def current_policy(aws: Aws, ctx: Context, phase: str) -> str | None:
    """The stack's policy body when it denies anything; None when it has none, or one that allows everything."""
    body = aws_call(phase, f"reading {ctx.stack_name}'s stack policy failed", "allow cloudformation:GetStackPolicy",
                    lambda: aws.cloudformation.get_stack_policy(StackName=ctx.stack_name).get("StackPolicyBody"))
    if not body:
        return None
    try:
        statements = json.loads(body).get("Statement") or []
    except (ValueError, AttributeError):
        return body
    return body if any(s.get("Effect") == "Deny" for s in statements if isinstance(s, dict)) else None


def is_ours(body: str) -> bool:
    """Whether a policy body is one `policy` makes (bayon set it)."""
    try:
        found = json.loads(body)
        ids = [r.removeprefix("LogicalResourceId/") for s in found["Statement"][1:] for r in s["Resource"]]
        return found == policy(ids)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return False


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


def protect(aws: Aws, ctx: Context, phase: str) -> Protection:
    """Termination protection on and the stack policy denying the replacement or deletion of the stack's stateful
    resources (as it has them now) but those `allow_replacement` accepts for good; what was set, or
    PhaseFailed(`phase`)."""
    cfn = aws.cloudformation
    found = aws_call(phase, f"listing {ctx.stack_name}'s resources failed", "allow cloudformation:ListStackResources",
                     lambda: stack.typed_resources(cfn, ctx.stack_name))
    accepted = set(ctx.environment.allow_replacement)
    stateful = sorted(i for i, (_, kind) in found.items() if kind in STATEFUL and i not in accepted)
    aws_call(phase, f"setting {ctx.stack_name}'s stack policy failed", "allow cloudformation:SetStackPolicy",
             lambda: cfn.set_stack_policy(StackName=ctx.stack_name, StackPolicyBody=json.dumps(policy(stateful))))
    denied = (f"the stack policy denies replacing or deleting {', '.join(stateful)}" if stateful
              else "the stack policy is set (no stateful resources to deny)")
    if aws.where.emulator:
        return Protection(f"{denied}; {EMULATOR_LACKS}", False)
    aws_call(phase, f"enabling {ctx.stack_name}'s termination protection failed",
             "allow cloudformation:UpdateTerminationProtection",
             lambda: cfn.update_termination_protection(StackName=ctx.stack_name, EnableTerminationProtection=True))
    return Protection(f"termination protection on; {denied}", True)


def lift(aws: Aws, ctx: Context, phase: str, why: str = "--override-reason") -> None:
    """Replace the stack policy by allow-all (for one execution or put-back: `why`); PhaseFailed(`phase`)."""
    put_policy(aws, ctx, phase, json.dumps({"Statement": [ALLOW_UPDATES]}), f"lifting {ctx.stack_name}'s stack "
               f"policy for {why} failed")


def put_policy(aws: Aws, ctx: Context, phase: str, body: str, what: str) -> None:
    aws_call(phase, what, "allow cloudformation:SetStackPolicy",
             lambda: aws.cloudformation.set_stack_policy(StackName=ctx.stack_name, StackPolicyBody=body))
