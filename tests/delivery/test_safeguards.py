"""Production safeguards against the moto server: before a change, the stack's template and parameters copied to the
bucket and an on-demand DynamoDB backup of each configured table, recorded in the state and listed by `history`;
a backup that fails stops the deploy before any change set exists; termination protection and a stack policy
denying the replacement or deletion of the stateful resources, lifted for one execution by --override-reason.

moto has set_stack_policy/get_stack_policy (stored, not enforced), create_backup/describe_backup, and no
UpdateTerminationProtection: that call is answered in the test (`answered`: parameters validated by botocore's
model, the answer by its output shape) on clients with AWS's profile (no emulator endpoint)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from botocore.awsrequest import AWSResponse

from ci.delivery import lock, safeguards, stack
from ci.delivery.clients import Target
from ci.delivery.deploy import Request, deploy
from ci.delivery.history import tables
from ci.delivery.phase_log import PhaseLog
from ci.delivery.rollback import rollback
from ci.output.render import failure_line
from ci.pipeline.deliver import exit_code
from tests.delivery.conftest import REGION
from tests.delivery.deploy_world import COMMITS, NOW, World, answered, enforce_stack_policy, template
from tests.delivery.local_http import Answer

SHARES_MOTO = True

V1, V2 = 30, 45
GUARDED = "{backup_tables: [ListingsTable], protect_stack: true}"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/guarded/1"

POLICY = {"Statement": [
    {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*",
     "Resource": ["LogicalResourceId/ListingsTable"]}]}
"""The stack policy as AWS takes it (SetStackPolicy's StackPolicyBody), pinned: the stateful ListingsTable denied."""
ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}


@pytest.fixture
def world(moto_url, request):
    made = World(moto_url, request.node.name.removeprefix("test_")[:16].replace("_", "-"), alarm=False, retries=0,
                 safeguards=GUARDED)
    yield made
    made.close()


def _as_on_aws(world: World) -> tuple[object, list[dict]]:
    """The clients with AWS's profile (the templates go untranslated), UpdateTerminationProtection answered here."""
    aws = replace(world.aws(fresh=True), where=Target(REGION))
    calls: list[dict] = []
    answered(aws.cloudformation, "UpdateTerminationProtection", {"StackId": STACK_ID}, calls)
    return aws, calls


def _deploy(world: World, ref: str, aws, reason: str = ""):
    return deploy(aws, world.context(), Request(ref, override_reason=reason), PhaseLog(lambda line: None,
                                                                                       world.fake.clock))


def _step(found, step_id):
    return next(s for s in found.steps if s.id == step_id)


def _policy(world: World) -> dict:
    return json.loads(world.client("cloudformation").get_stack_policy(StackName=world.stack_name)["StackPolicyBody"])


def _change_sets(world: World) -> set[str]:
    listed = world.client("cloudformation").list_change_sets(StackName=world.stack_name)["Summaries"]
    return {c["ChangeSetName"] for c in listed if c["StackName"] == world.stack_name}  # moto lists every stack's


def _first(world: World, aws) -> tuple[str, tuple[int, str]]:
    first = world.store(COMMITS[0], template(world.stack_name, V1))
    found = _deploy(world, first, aws)
    assert found.outcome == "deployed", found.steps
    assert _step(found, "deploy/safeguards").status == "skipped"  # no stack yet: nothing to copy or back up
    world.put_items()
    return first, world.items()


def test_backups_and_snapshot_before_the_change_protection_after_it_all_in_the_state(world):
    aws, protections = _as_on_aws(world)
    first, items = _first(world, aws)
    assert _policy(world) == POLICY
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    found = _deploy(world, second, aws)
    assert (found.outcome, exit_code(found)) == ("deployed", 0)
    ids = [s.id for s in found.steps]
    assert ids.index("deploy/preflight") < ids.index("deploy/safeguards") < ids.index("deploy/change-set")
    assert ids.index("deploy/execute") < ids.index("deploy/protect")
    assert "1 backup(s) AVAILABLE: ListingsTable" in _step(found, "deploy/safeguards").reason
    assert _step(found, "deploy/protect").reason == (
        "termination protection on; the stack policy denies replacing or deleting ListingsTable")

    record = world.state().history[-1].safeguards
    (backup,) = record.backups
    assert (record.protected, record.override_reason, backup.logical_id, backup.table, backup.status) == (
        True, "", "ListingsTable", world.table_name(), "AVAILABLE")
    described = world.client("dynamodb").describe_backup(BackupArn=backup.arn)["BackupDescription"]
    assert described["SourceTableDetails"]["TableName"] == world.table_name()
    assert described["BackupDetails"]["BackupName"] == backup.name
    assert described["SourceTableDetails"]["ItemCount"] == items[0]

    snap = {name: world.s3.get_object(Bucket=world.bucket, Key=f"{record.snapshot}{name}")["Body"].read()
            for name in ("template.json", "parameters.json")}
    assert record.snapshot == f"bayon/snapshots/{world.name}/run-test/"
    assert json.loads(snap["template.json"])["Resources"]["Jobs"]["Properties"]["VisibilityTimeout"] == V1
    assert json.loads(snap["parameters.json"]) == []

    assert [c["EnableTerminationProtection"] for c in protections] == [True, True, True]  # after 1st; before+after 2nd
    assert {c["StackName"] for c in protections} == {world.stack_name}
    assert _policy(world) == POLICY
    (row,) = tables(world.state())[3].rows
    assert row[1:5] == (second[:12], "ListingsTable", backup.name, backup.arn)


@pytest.mark.parametrize("fault", ["refused", "slow", "ghost"])
def test_a_failed_backup_stops_the_deploy_before_any_change_set(world, fault):
    aws, _ = _as_on_aws(world)
    first, items = _first(world, aws)
    if fault == "refused":
        answered(aws.dynamodb, "CreateBackup", {"Error": {"Code": "LimitExceededException", "Message": "There is "
                                                          "a limit of 50 concurrent backups"}}, [])
    elif fault == "slow":  # never AVAILABLE: the wait ends at timeouts.backup (fake time)
        details = {"BackupArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/backup/1", "BackupName": "bayon-slow",
                   "BackupStatus": "CREATING", "BackupType": "USER", "BackupCreationDateTime": NOW}
        answered(aws.dynamodb, "CreateBackup", {"BackupDetails": details}, [])
        answered(aws.dynamodb, "DescribeBackup", {"BackupDescription": {"BackupDetails": details}}, [])
    else:
        world.safeguards = "{backup_tables: [ListingsTable, Ghost], protect_stack: true}"
    before = _change_sets(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    found = _deploy(world, second, aws)

    assert (found.outcome, found.passed, exit_code(found)) == ("unchanged", False, 1)
    assert _step(found, "deploy/safeguards").status == "failed"
    assert "deploy/change-set" not in [s.id for s in found.steps]
    line = failure_line(found)
    assert "\n" not in line and "this deploy changed nothing" in line
    expected = {"refused": "the on-demand backup of ListingsTable", "ghost": "has no DynamoDB table Ghost",
                "slow": "was still CREATING after 600 s; raise environments."}[fault]
    assert expected in line and ("timeouts.backup" if fault == "slow" else "safeguards.backup_tables") in line
    assert _change_sets(world) == before  # no change set was created
    world.assert_at(first, V1, items)  # the stack, its table and the state as they were; the lock released
    last = world.state().history[-1]
    assert (last.release, last.outcome) == (second, "unchanged")
    assert last.safeguards.snapshot and len(last.safeguards.backups) == (1 if fault == "ghost" else 0)


def test_override_reason_lifts_the_policy_for_its_execution_only_and_is_recorded(world):
    aws = world.aws(fresh=True)  # the emulator profile: termination protection left out, said so
    first, _ = _first(world, aws)
    at_execution = []
    aws.cloudformation.meta.events.register("before-call.cloudformation.ExecuteChangeSet",
                                            lambda **_: at_execution.append(_policy(world)))
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    found = _deploy(world, second, aws, reason="replace the listings table on purpose (ticket 42)")
    assert found.outcome == "deployed", found.steps
    assert at_execution == [ALLOW_ALL]
    assert _policy(world) == POLICY
    reason = _step(found, "deploy/protect").reason
    assert safeguards.EMULATOR_LACKS in reason and "override: replace the listings table" in reason
    record = world.state().history[-1].safeguards
    # the emulator: the policy is back but termination protection was left out, so the record says unprotected
    assert (record.override_reason, record.protected) == ("replace the listings table on purpose (ticket 42)", False)
    assert tables(world.state())[3].rows[0][-1] == "replace the listings table on purpose (ticket 42)"


def test_a_lifted_policy_is_put_back_after_the_rollback_of_a_failed_deploy(world):
    aws = world.aws(fresh=True)
    first, items = _first(world, aws)
    world.health = [Answer(500, b"boom"), Answer(200, b"ok")]  # the smoke test fails after the execution
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    found = _deploy(world, second, aws, reason="drop the old index")
    assert (found.outcome, exit_code(found)) == ("rolled_back", 4)
    world.assert_at(first, V1, items)
    assert _policy(world) == POLICY
    record = world.state().history[-1].safeguards
    # the emulator: no termination protection, so unprotected as recorded
    assert (record.override_reason, record.protected, len(record.backups)) == ("drop the old index", False, 1)


def test_a_policy_that_cannot_be_lifted_stops_the_deploy_and_deletes_its_change_set(world):
    aws = world.aws(fresh=True)
    first, items = _first(world, aws)
    lifted = json.dumps(ALLOW_ALL)

    def deny_the_lift(params, **_):  # only the lift is refused (AccessDenied), the protection before it goes through
        if params["body"].get("StackPolicyBody") == lifted:
            error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform SetStackPolicy"}}
            return AWSResponse("https://answered.invalid", 403, {}, None), error
        return None

    aws.cloudformation.meta.events.register("before-call.cloudformation.SetStackPolicy", deny_the_lift)
    before = _change_sets(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    found = _deploy(world, second, aws, reason="rename the table")
    assert (found.outcome, exit_code(found)) == ("unchanged", 1)
    line = failure_line(found)
    assert "lifting" in line and "allow cloudformation:SetStackPolicy" in line and "changed nothing" in line
    assert _change_sets(world) == before  # the change set made for it is gone, never executed
    world.assert_at(first, V1, items)
    assert _policy(world) == POLICY
    assert world.state().history[-1].safeguards.override_reason == "rename the table"


def _enforced(world: World, aws) -> list[str]:
    """The clients' stack updates obey the stack policy (`enforce_stack_policy`); the ids it refused, in turn."""
    refused: list[str] = []
    enforce_stack_policy(aws.cloudformation, world.client("cloudformation"), world.stack_name, refused)
    return refused


def _with_audit_table(stack_name: str, visibility: int) -> dict:
    body = template(stack_name, visibility)
    body["Resources"]["AuditTable"] = json.loads(json.dumps(body["Resources"]["ListingsTable"]))
    return body


def _with_uploads(stack_name: str, visibility: int, name: str = "a") -> dict:
    """The stack with an S3 bucket too; a new `name` replaces it (BucketName is create-only), which moto carries
    out (it loses a replaced DynamoDB table from the stack's resources)."""
    body = template(stack_name, visibility)
    body["Resources"]["UploadsBucket"] = {"Type": "AWS::S3::Bucket",
                                          "Properties": {"BucketName": f"{stack_name}-uploads-{name}"}}
    return body


def _first_with_uploads(world: World, aws) -> str:
    first = world.store(COMMITS[0], _with_uploads(world.stack_name, V1))
    found = _deploy(world, first, aws)
    assert found.outcome == "deployed", failure_line(found)
    return first


def _guarding(*ids: str) -> dict:
    return {"Statement": [POLICY["Statement"][0], {**POLICY["Statement"][1], "Resource": [
        f"LogicalResourceId/{i}" for i in ids]}]}


def test_the_policy_is_pinned_as_aws_takes_it(world):
    aws = world.aws(fresh=True)
    _first(world, aws)
    assert _policy(world) == POLICY


def test_the_rollback_of_a_release_that_added_a_table_removes_it_under_an_enforced_policy(world):
    """The protection comes back only after the monitoring window, and the rollback lifts the policy for its
    put-back: with the policy enforced, removing the table the failed release added is not denied."""
    aws = world.aws(fresh=True)
    first, items = _first(world, aws)
    refused = _enforced(world, aws)
    lifted_at_put_back = []

    def seen(params, **_):  # the put-back (not the retag before it): the policy then, and the attempt's record
        if "TemplateBody" in params["body"]:
            lifted_at_put_back.append((_policy(world), world.state().attempt.policy_lifted))

    aws.cloudformation.meta.events.register("before-call.cloudformation.UpdateStack", seen)
    world.health = [Answer(500, b"boom"), Answer(200, b"ok")]  # the smoke test fails after the execution
    second = world.store(COMMITS[1], _with_audit_table(world.stack_name, V2))
    found = _deploy(world, second, aws)
    assert (found.outcome, exit_code(found), refused) == ("rolled_back", 4, [])
    ids = [s.id for s in found.steps]
    assert "deploy/protect" not in ids  # never protected with the failed release's tables
    world.assert_at(first, V1, items)
    assert "AuditTable" not in world.client("cloudformation").get_template(StackName=world.stack_name)["TemplateBody"]
    assert lifted_at_put_back == [(ALLOW_ALL, f"automatic rollback of {second}")]
    assert _policy(world) == POLICY  # protected again after the put-back


def test_an_override_that_replaced_a_table_is_undone_by_the_rollback_under_an_enforced_policy(world):
    aws = world.aws(fresh=True)
    first = _first_with_uploads(world, aws)
    assert _policy(world) == _guarding("ListingsTable", "UploadsBucket")
    refused = _enforced(world, aws)
    world.health = [Answer(500, b"boom"), Answer(200, b"ok")]
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2, "b"))
    found = _deploy(world, second, aws, reason="rename the uploads bucket (ticket 7)")
    assert (found.outcome, exit_code(found), refused) == ("rolled_back", 4, []), failure_line(found)
    (accepted,) = [f for f in found.findings if f.rule == "infra/stateful-replacement"]
    assert accepted.severity == "warning" and "accepted for this deploy by --override-reason" in accepted.message
    assert stack.tagged_release(world.client("cloudformation"), world.stack_name) == first
    assert world.deployed_visibility() == V1
    assert _policy(world) == _guarding("ListingsTable", "UploadsBucket")


def test_a_stateful_replacement_without_override_is_refused_before_anything_runs(world):
    aws, protections = _as_on_aws(world)
    first = _first_with_uploads(world, aws)
    refused = _enforced(world, aws)
    before = _change_sets(world)
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2, "b"))
    found = _deploy(world, second, aws)
    assert (found.outcome, exit_code(found), refused) == ("unchanged", 1, []), failure_line(found)
    line = failure_line(found)
    assert "UploadsBucket" in line and "pass --override-reason TEXT" in line and "never executed" in line
    assert "deploy/execute" not in [s.id for s in found.steps]
    assert _change_sets(world) == before
    assert (stack.tagged_release(world.client("cloudformation"), world.stack_name), world.deployed_visibility()) == (
        first, V1)
    record = world.state().history[-1]
    assert (record.outcome, record.safeguards.protected) == ("unchanged", True)  # take() protected it, still is
    assert any(f.rule == "infra/stateful-replacement" and f.severity == "error" for f in found.findings)


def test_allow_replacement_is_accepted_for_good_and_left_out_of_the_policy(world):
    aws = world.aws(fresh=True)
    refused = _enforced(world, aws)
    ctx = world.context()
    ctx = replace(ctx, environment=ctx.environment.model_copy(update={"allow_replacement": ["UploadsBucket"]}))
    first = _first_with_uploads(world, aws)
    assert _policy(world) == _guarding("ListingsTable", "UploadsBucket")  # as configured then
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2, "b"))
    found = deploy(aws, ctx, Request(second), PhaseLog(lambda line: None, world.fake.clock))
    assert (found.outcome, refused) == ("deployed", []), failure_line(found)
    assert _policy(world) == POLICY  # UploadsBucket accepted for good: not denied
    assert any(f.rule == "infra/stateful-replacement" and f.severity == "info" for f in found.findings)


def test_protect_stack_turned_off_replaces_bayons_policy_and_an_override_still_lifts_another(world):
    aws = world.aws(fresh=True)
    first = _first_with_uploads(world, aws)
    world.safeguards = "{backup_tables: [ListingsTable]}"
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2))
    found = _deploy(world, second, aws)
    assert found.outcome == "deployed", failure_line(found)
    assert _policy(world) == ALLOW_ALL
    reason = _step(found, "deploy/safeguards").reason
    assert "protect_stack is off" in reason and "termination protection is left as it is" in reason

    theirs = json.dumps({**_guarding("UploadsBucket"), "Comment": "set by the platform team"})
    world.client("cloudformation").set_stack_policy(StackName=world.stack_name, StackPolicyBody=theirs)
    refused = _enforced(world, aws)
    third = world.store(COMMITS[2], _with_uploads(world.stack_name, V1, "b"))
    found = _deploy(world, third, aws)  # their policy denies it: refused before it runs
    assert (found.outcome, exit_code(found), refused) == ("unchanged", 1, []), failure_line(found)
    found = _deploy(world, third, aws, reason="new sort key (ticket 9)")
    assert (found.outcome, refused) == ("deployed", []), failure_line(found)
    assert world.client("cloudformation").get_stack_policy(StackName=world.stack_name)["StackPolicyBody"] == theirs


def test_a_failed_protection_after_a_good_release_is_a_warning_not_a_rollback(world):
    aws = world.aws(fresh=True)
    first, _ = _first(world, aws)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    calls = []

    def throttle_the_last(params, **_):  # the protection before the change goes through, the one after does not
        calls.append(params["body"]["StackPolicyBody"])
        if len(calls) > 1:
            return AWSResponse("https://answered.invalid", 400, {}, None), {
                "Error": {"Code": "Throttling", "Message": "Rate exceeded"}}
        return None

    aws.cloudformation.meta.events.register("before-call.cloudformation.SetStackPolicy", throttle_the_last)
    found = _deploy(world, second, aws)
    assert (found.outcome, exit_code(found)) == ("deployed", 0), failure_line(found)
    assert "NOT protected" in _step(found, "deploy/protect").reason
    assert [f.rule for f in found.findings if f.severity == "warning"] == ["deploy/protection-not-restored"]
    record = world.state().history[-1]
    assert (record.release, record.outcome, record.safeguards.protected) == (second, "deployed", False)


class Died(BaseException):
    """The run dies here (a SIGKILL): nothing after it runs, no except clause catches it."""


def test_a_run_dying_with_the_policy_lifted_leaves_it_to_the_next_which_protects_again(world):
    aws = world.aws(fresh=True)
    first, items = _first(world, aws)

    def die(**_):
        raise Died()

    aws.cloudformation.meta.events.register("before-call.cloudformation.ExecuteChangeSet", die)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    with pytest.raises(Died):
        _deploy(world, second, aws, reason="rename the queue")
    assert _policy(world) == ALLOW_ALL
    assert world.state().attempt.policy_lifted == "--override-reason: rename the queue"
    world.s3.delete_object(Bucket=world.bucket, Key=lock.key(world.name))  # its lock expired

    third = world.store(COMMITS[2], _with_audit_table(world.stack_name, V2))
    found = _deploy(world, third, world.aws(fresh=True))
    assert found.outcome == "deployed", failure_line(found)
    assert _step(found, "resume/revert").status == "skipped"
    assert _policy(world) == {"Statement": [POLICY["Statement"][0], {**POLICY["Statement"][1], "Resource": [
        "LogicalResourceId/AuditTable", "LogicalResourceId/ListingsTable"]}]}


def test_a_failed_first_creation_is_never_protected_and_the_next_preflight_deletes_it(world):
    aws, protections = _as_on_aws(world)
    world.safeguards = "{protect_stack: true}"
    first = world.store(COMMITS[0], template(world.stack_name, V1, broken=True))
    found = _deploy(world, first, aws)
    assert found.outcome == "unrecoverable", failure_line(found)
    assert protections == []  # the failed shell got no termination protection

    def protected_shell(parsed, **_):  # as a shell an older bayon protected would be described
        for described in parsed.get("Stacks", []):
            described["EnableTerminationProtection"] = True

    aws, protections = _as_on_aws(world)
    aws.cloudformation.meta.events.register("after-call.cloudformation.DescribeStacks", protected_shell)
    order = []
    aws.cloudformation.meta.events.register("before-call.cloudformation.DeleteStack",
                                            lambda **_: order.append("delete"))
    aws.cloudformation.meta.events.register("before-parameter-build.cloudformation.UpdateTerminationProtection",
                                            lambda params, **_: order.append(params["EnableTerminationProtection"]))
    second = world.store(COMMITS[1], template(world.stack_name, V1))
    found = _deploy(world, second, aws)
    assert found.outcome == "deployed", failure_line(found)
    assert order[:2] == [False, "delete"], order  # off first, then deleted; protected once the release is good
    assert protections[0] == {"StackName": world.stack_name, "EnableTerminationProtection": False}


def test_rollback_to_lifts_the_policy_for_its_put_back_with_the_operators_reason(world):
    aws = world.aws(fresh=True)
    first, items = _first(world, aws)
    second = world.store(COMMITS[1], _with_audit_table(world.stack_name, V2))
    assert _deploy(world, second, aws).outcome == "deployed"
    assert _policy(world) == _guarding("AuditTable", "ListingsTable")  # protected with the new table
    refused = _enforced(world, aws)
    reasons = []

    def seen(params, **_):
        if "TemplateBody" in params["body"]:
            reasons.append((_policy(world), world.state().attempt.policy_lifted))

    aws.cloudformation.meta.events.register("before-call.cloudformation.UpdateStack", seen)
    found = rollback(aws, world.context(), first, PhaseLog(lambda line: None, world.fake.clock))
    assert (found.outcome, refused) == ("rolled_back", []), failure_line(found)
    assert reasons == [(ALLOW_ALL, f"rollback --to {first} by run run-test")]
    world.assert_at(first, V1, items)
    assert _policy(world) == POLICY  # protected again, AuditTable gone


def _theirs(world: World, aws) -> str:
    """protect_stack off after a first deploy, and another team's policy on the stack denying UploadsBucket's
    replacement: its body."""
    _first_with_uploads(world, aws)
    world.safeguards = "{backup_tables: [ListingsTable]}"
    theirs = json.dumps({**_guarding("UploadsBucket"), "Comment": "set by the platform team"})
    world.client("cloudformation").set_stack_policy(StackName=world.stack_name, StackPolicyBody=theirs)
    return theirs


def _died(**_):
    raise Died()


@pytest.mark.parametrize("executed", [False, True])  # killed before the execution, or once it is recorded
def test_a_run_dying_with_another_teams_policy_lifted_leaves_its_text_and_the_next_run_puts_it_back(world, executed):
    aws = world.aws(fresh=True)
    theirs = _theirs(world, aws)
    if executed:  # the execution recorded (an S3 write), then killed waiting for it
        aws.cloudformation.meta.events.register("after-call.cloudformation.ExecuteChangeSet", lambda **_: (
            aws.cloudformation.meta.events.register("before-call.cloudformation.DescribeStacks", _died)))
    else:
        aws.cloudformation.meta.events.register("before-call.cloudformation.ExecuteChangeSet", _died)
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2, "b"))
    with pytest.raises(Died):
        _deploy(world, second, aws, reason="rename the uploads bucket (ticket 9)")
    assert _policy(world) == ALLOW_ALL
    attempt = world.state().attempt
    assert attempt.executed == executed
    assert (attempt.policy_lifted, attempt.policy_before) == ("--override-reason: rename the uploads bucket "
                                                              "(ticket 9)", theirs)
    world.s3.delete_object(Bucket=world.bucket, Key=lock.key(world.name))  # its lock expired

    third = world.store(COMMITS[2], _with_uploads(world.stack_name, V1))
    found = _deploy(world, third, world.aws(fresh=True))
    assert found.outcome == "deployed", failure_line(found)
    assert ("resume/stack" in [s.id for s in found.steps]) == executed  # reverted, or dropped (nothing ran)
    assert world.client("cloudformation").get_stack_policy(StackName=world.stack_name)["StackPolicyBody"] == theirs
    assert world.state().attempt is None


def test_a_dry_run_refuses_what_another_teams_policy_denies_as_the_deploy_does(world):
    aws = world.aws(fresh=True)
    theirs = _theirs(world, aws)
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2, "b"))
    dry = deploy(aws, world.context(), Request(second, dry_run=True), PhaseLog(lambda line: None, world.fake.clock))
    real = _deploy(world, second, aws)
    for found in (dry, real):
        assert (found.outcome, exit_code(found)) == ("unchanged", 1), failure_line(found)
        assert "UploadsBucket" in failure_line(found) and "pass --override-reason TEXT" in failure_line(found)
    assert "the stack policy read" in _step(dry, "deploy/safeguards").reason
    assert world.client("cloudformation").get_stack_policy(StackName=world.stack_name)["StackPolicyBody"] == theirs


def test_an_override_with_nothing_to_lift_is_a_warning_saying_why(world):
    aws = world.aws(fresh=True)
    world.safeguards = "{}"
    first = world.store(COMMITS[0], template(world.stack_name, V1))

    def unused(found) -> str:
        assert found.outcome == "deployed", failure_line(found)
        (warning,) = [f for f in found.findings if f.rule == "deploy/override-unused"]
        assert warning.severity == "warning" and "ticket 3" in warning.message
        return warning.message

    assert f"{world.stack_name} is not created yet" in unused(_deploy(world, first, aws, reason="ticket 3"))
    assert "the change set has no changes" in unused(_deploy(world, first, aws, reason="ticket 3"))
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    assert (f"{world.stack_name} has no stack policy that denies anything"
            in unused(_deploy(world, second, aws, reason="ticket 3")))
    assert not [f for f in _deploy(world, first, aws).findings if f.rule == "deploy/override-unused"]


def test_a_refused_change_set_that_cannot_be_deleted_is_left_to_delete_by_hand(world):
    aws = world.aws(fresh=True)
    _first_with_uploads(world, aws)
    refused = _enforced(world, aws)
    aws.cloudformation.meta.events.register(
        "before-call.cloudformation.DeleteChangeSet",
        lambda **_: (AWSResponse("https://answered.invalid", 400, {}, None),
                     {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}))
    second = world.store(COMMITS[1], _with_uploads(world.stack_name, V2, "b"))
    found = _deploy(world, second, aws)
    assert (found.outcome, exit_code(found), refused) == ("unchanged", 1, []), failure_line(found)
    line = failure_line(found)
    assert "could not be deleted" in line and "delete it by hand" in line and "never executed" in line
    assert "was deleted" not in line
