"""deploy, its automatic rollback and rollback --to, against a real moto server, with a fault injected in each phase.
Every fault ends with the environment at its last known good release (stack tag and template), the table's items
unchanged (count and checksum), the lock released and the state consistent (`World.assert_at`)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from ci.delivery import lock, release, state
from ci.delivery.deploy import Request, deploy
from ci.delivery.outcome import INCIDENT_FILE
from ci.delivery.phase_log import PhaseLog
from ci.delivery.rollback import rollback
from ci.output.render import dumps, failure_line
from ci.pipeline.deliver import exit_code
from tests.delivery.deploy_world import COMMITS, UPLOAD_URL, World, site, template
from tests.delivery.local_http import Answer

SHARES_MOTO = True

V1, V2 = 30, 45
"""The queue's visibility timeout in the first and the second release: which one the stack runs."""


@pytest.fixture
def world(moto_url, request):
    made = World(moto_url, request.node.name.split("[")[0].removeprefix("test_")[:20].replace("_", "-"))
    yield made
    made.close()


def _deploy(world: World, ref: str, dry_run: bool = False, aws=None, **context):
    lines: list[str] = []
    found = deploy(aws or world.aws(), world.context(**context), Request(ref, dry_run),
                   PhaseLog(lines.append, world.fake.clock))
    return found, lines


def _good(world: World, frontend: bool = False) -> tuple[str, tuple[int, str]]:
    """Release 1 deployed (the last known good) with three items in its table."""
    first = world.store(COMMITS[0], template(world.stack_name, V1), site("one") if frontend else None)
    if frontend:
        world.expect_frontend()
    found, _ = _deploy(world, first)
    assert found.outcome == "deployed", found.steps
    world.put_items()
    return first, world.items()


def _step(found, step_id):
    return next(s for s in found.steps if s.id == step_id)


def _config_of(upload: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(upload)) as archive:
        return json.loads(archive.read("config.json"))


def test_deploys_stack_and_frontend_with_its_runtime_config_then_records_it(world):
    world.amplify = True
    first, items = _good(world, frontend=True)
    assert world.uploads[0][0] == UPLOAD_URL
    assert _config_of(world.uploads[0][1])["release"] == first
    second = world.store(COMMITS[1], template(world.stack_name, V2), site("two"))
    world.expect_frontend(polls=2)
    found, lines = _deploy(world, second)
    assert (found.outcome, found.passed, exit_code(found)) == ("deployed", True, 0)
    assert [s.id for s in found.steps] == ["deploy/lock", "deploy/state", "deploy/preflight", "deploy/safeguards",
                                            "deploy/change-set", "deploy/execute", "deploy/frontend", "deploy/smoke",
                                            "deploy/alarms", "deploy/record"]
    assert ("Modify", "Jobs") in {(row[0], row[1]) for row in found.tables[0].rows}
    assert any("Modify  Jobs" in line for line in lines)
    assert _config_of(world.uploads[1][1])["release"] == second
    world.assert_at(second, V2, items)
    history = world.state().history
    assert [(d.release, d.outcome, d.previous) for d in history] == [(first, "deployed", None),
                                                                     (second, "deployed", first)]
    assert "planted-signature" not in dumps(found) + "\n".join(lines)
    world.stubber.assert_no_pending_responses()


def test_dry_run_prints_the_change_set_and_executes_nothing(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    found, lines = _deploy(world, second, dry_run=True)
    assert (found.outcome, found.passed) == ("unchanged", True)
    assert "dry run" in _step(found, "deploy/change-set").reason
    assert found.tables[0].rows
    world.assert_at(first, V1, items)
    left = world.client("cloudformation").list_change_sets(StackName=world.stack_name)["Summaries"]
    mine = [c for c in left if c["StackName"] == world.stack_name]  # moto lists every stack's
    assert mine and [c for c in mine if c["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []  # the dry run's deleted


def _rolled_back(world: World, found, first: str, items, phase: str) -> state.Incident:
    """The common end of every fault after the change set ran."""
    assert (found.outcome, found.passed, exit_code(found)) == ("rolled_back", False, 4)
    assert failure_line(found).startswith(f"deploy of {COMMITS[1][:12]} to {world.name} failed: rolled back to "
                                          f"{first[:12]}")
    world.assert_at(first, V1, items)
    incident = world.state().incidents[-1]
    assert (incident.phase, incident.release, incident.restored, incident.outcome) == (phase, COMMITS[1], first,
                                                                                      "rolled_back")
    report = found.artifacts[INCIDENT_FILE].decode()
    assert incident.id in report and first[:12] in report
    assert found.delivery["incident"] == incident.id
    assert world.state().history[-1].outcome == "rolled_back"
    assert _step(found, "rollback/smoke").status == "passed"
    return incident


def test_a_failed_stack_update_is_rolled_back(world):
    """The update runs, then CloudFormation reports it failed and rolled back (injected into its answers: moto never
    fails an update this way); the stack is put back to the last known good release."""
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    aws = world.aws(fresh=True)
    failing: list[int] = []

    def executed(**_):
        failing.append(2)  # the waiter's poll and the verdict's read

    def reported(parsed, **_):
        if failing and failing[0] > 0:
            failing[0] -= 1
            for found in parsed.get("Stacks", []):
                found["StackStatus"] = "UPDATE_ROLLBACK_COMPLETE"

    aws.cloudformation.meta.events.register("after-call.cloudformation.ExecuteChangeSet", executed)
    aws.cloudformation.meta.events.register("after-call.cloudformation.DescribeStacks", reported)
    found, _ = _deploy(world, second, aws=aws)
    assert _step(found, "deploy/execute").status == "failed"
    assert "ended UPDATE_ROLLBACK_COMPLETE" in _step(found, "deploy/execute").reason
    _rolled_back(world, found, first, items, "change_set")


def test_an_update_the_emulator_half_applies_is_rolled_back(world):
    """moto fails the execution of an update adding an invalid queue and leaves the stack half changed (its
    resources unreadable): the stack is put back to the last known good release."""
    first, items = _good(world)
    bad = world.store(COMMITS[1], template(world.stack_name, V2, broken=True))
    found, _ = _deploy(world, bad)
    incident = _rolled_back(world, found, first, items, "change_set")
    assert any("alphanumeric" in line for line in incident.evidence)


def test_an_execution_the_service_refuses_changes_nothing(world):
    """ExecuteChangeSet denied (injected before the request leaves): nothing ran, nothing is rolled back."""
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    aws = world.aws(fresh=True)

    def denied(**_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to ExecuteChangeSet"}},
                          "ExecuteChangeSet")

    aws.cloudformation.meta.events.register("before-call.cloudformation.ExecuteChangeSet", denied)
    found, _ = _deploy(world, second, aws=aws)
    assert (found.outcome, exit_code(found)) == ("unchanged", 1)
    assert "AccessDenied" in _step(found, "deploy/change-set").reason
    assert "rollback/stack" not in [s.id for s in found.steps]
    world.assert_at(first, V1, items)
    assert world.state().history[-1].outcome == "unchanged"
    left = world.client("cloudformation").list_change_sets(StackName=world.stack_name)["Summaries"]
    assert [c for c in left if c["StackName"] == world.stack_name and c["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []


def test_a_failed_frontend_job_is_rolled_back_with_the_last_good_zip(world):
    world.amplify = True
    first, items = _good(world, frontend=True)
    second = world.store(COMMITS[1], template(world.stack_name, V2), site("two"))
    world.expect_frontend(final="FAILED")
    world.expect_frontend()
    found, _ = _deploy(world, second)
    incident = _rolled_back(world, found, first, items, "frontend")
    assert "no index.html" in incident.reason
    assert [_config_of(data)["release"] for _, data in world.uploads] == [first, second, first]
    world.stubber.assert_no_pending_responses()


def test_failed_smoke_tests_are_rolled_back(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    world.health = [Answer(500, b"boom")] * 3 + [Answer(200, b"ok")]
    world.fake.slept.clear()
    found, _ = _deploy(world, second)
    _rolled_back(world, found, first, items, "smoke")
    assert [f.rule for f in found.findings] == ["smoke/http"]
    assert world.fake.slept[:2] == [1, 2]  # retries with backoff before giving up


def test_an_alarm_firing_in_the_monitoring_window_is_rolled_back(world):
    world.monitoring_minutes = 0.1
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    fired = []

    def sleep(seconds: float) -> None:  # the first wait of the window: the alarm goes off
        if not fired:
            world.cloudwatch.set_alarm_state(AlarmName=world.alarm_name, StateValue="ALARM",
                                             StateReason="simulated: 5XX errors after the deploy")
            fired.append(seconds)
        world.fake.sleep(seconds)

    found, _ = _deploy(world, second, sleep=sleep)
    world.cloudwatch.set_alarm_state(AlarmName=world.alarm_name, StateValue="OK", StateReason="reset")
    incident = _rolled_back(world, found, first, items, "monitoring")
    assert "simulated: 5XX errors" in incident.reason


def test_a_phase_over_its_timeout_is_rolled_back(world):
    world.amplify = True
    first, items = _good(world, frontend=True)
    second = world.store(COMMITS[1], template(world.stack_name, V2), site("two"))
    world.expect_frontend(final="STOP", polls=61)  # RUNNING past timeouts.frontend (60 s at one poll a second)
    world.expect_frontend()
    found, _ = _deploy(world, second)
    incident = _rolled_back(world, found, first, items, "frontend")
    assert "60" in incident.reason
    world.stubber.assert_no_pending_responses()


def test_a_lock_held_by_a_live_run_changes_nothing(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    theirs, _ = lock.acquire(world.s3, world.bucket, world.name, "alice", "run-alice", ttl_s=600, wait_s=0,
                             clock=time.time, sleep=world.fake.sleep, host="ci-runner-7", pid=4242)
    found, _ = _deploy(world, second)
    assert (found.outcome, exit_code(found)) == ("unchanged", 1)
    assert "locked by alice" in _step(found, "deploy/lock").reason
    assert "this deploy changed nothing" in failure_line(found)
    assert world.lock_present()  # still alice's
    lock.release(world.s3, world.bucket, theirs)
    world.assert_at(first, V1, items)


def test_a_stale_lock_is_taken_over(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    lock.acquire(world.s3, world.bucket, world.name, "bob", "run-bob", ttl_s=60, wait_s=0,
                 clock=lambda: 1_000_000.0, sleep=world.fake.sleep)  # expired long ago
    found, _ = _deploy(world, second)
    assert found.outcome == "deployed"
    assert "took over the stale lock of bob (run run-bob" in _step(found, "deploy/lock").reason
    world.assert_at(second, V2, items)


def test_a_corrupt_state_is_moved_aside_and_rebuilt_from_the_stack_before_a_rollback(world):
    first, items = _good(world)
    world.s3.put_object(Bucket=world.bucket, Key=f"bayon/state/{world.name}.json", Body=b"{not json")
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    world.health = [Answer(503, b"down")] * 3 + [Answer(200, b"ok")]
    found, _ = _deploy(world, second)
    assert "moved to bayon/state/" in _step(found, "deploy/state").reason
    _rolled_back(world, found, first, items, "smoke")
    kept = world.s3.list_objects_v2(Bucket=world.bucket, Prefix=f"bayon/state/{world.name}.corrupt-")["Contents"]
    assert world.s3.get_object(Bucket=world.bucket, Key=kept[0]["Key"])["Body"].read() == b"{not json"


def test_a_missing_state_is_rebuilt_from_the_stack_before_a_rollback(world):
    first, items = _good(world)
    world.s3.delete_object(Bucket=world.bucket, Key=f"bayon/state/{world.name}.json")
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    world.health = [Answer(503, b"down")] * 3 + [Answer(200, b"ok")]
    found, _ = _deploy(world, second)
    assert f"runs release {first[:12]}" in _step(found, "deploy/state").reason
    _rolled_back(world, found, first, items, "smoke")


def test_a_release_whose_checksum_does_not_match_is_refused_before_any_change(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    key = f"releases/{second}/{release.TEMPLATE}"
    world.s3.put_object(Bucket=world.bucket, Key=key, Body=json.dumps(template(world.stack_name, 99)).encode())
    found, _ = _deploy(world, second)
    assert (found.outcome, exit_code(found)) == ("unchanged", 1)
    assert "sha256" in _step(found, "deploy/preflight").reason
    world.assert_at(first, V1, items)
    assert world.state().history[-1].outcome == "unchanged"


def test_a_last_known_good_that_cannot_be_restored_is_unrecoverable(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    world.s3.put_object(Bucket=world.bucket, Key=f"releases/{first}/{release.PARAMETERS}", Body=b'{"other": {}}')
    world.health = [Answer(500, b"boom")]
    found, _ = _deploy(world, second)
    assert (found.outcome, exit_code(found)) == ("unrecoverable", 5)
    assert "NOT at a known release" in failure_line(found)
    after = world.state()
    assert after.current is None and after.attempt is not None  # the next run reverts it again
    assert not world.lock_present()
    assert world.items() == items
    third = world.store(COMMITS[2], template(world.stack_name, 60))
    again, _ = _deploy(world, third)  # its revert of the attempt fails the same way: still no known release
    assert (again.outcome, exit_code(again)) == ("unrecoverable", 5)
    assert "resolving the interrupted deploy" in again.delivery["reason"]
    world.s3.put_object(Bucket=world.bucket, Key=f"releases/{first}/{release.PARAMETERS}",
                        Body=json.dumps({world.name: {}}).encode())  # the operator restores the object
    world.health = []
    back = rollback(world.aws(), world.context(), first, PhaseLog(lambda line: None, world.fake.clock))
    assert (back.outcome, exit_code(back)) == ("rolled_back", 0), [(s.id, s.reason) for s in back.steps]
    world.assert_at(first, V1, items)


def test_a_failing_first_deploy_says_there_is_nothing_to_roll_back_to(world):
    first = world.store(COMMITS[0], template(world.stack_name, V1))
    world.health = [Answer(500, b"boom")]
    found, _ = _deploy(world, first)
    assert (found.outcome, exit_code(found)) == ("unrecoverable", 5)
    assert "nothing to roll back to" in failure_line(found)
    assert _step(found, "rollback/stack").status == "skipped"
    assert world.state().last_known_good is None and not world.lock_present()


def test_rollback_goes_back_to_the_previous_good_release_and_refuses_one_never_deployed(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2), tags=("rc-1.1.0",))
    assert _deploy(world, second)[0].outcome == "deployed"
    never = world.store(COMMITS[2], template(world.stack_name, 60))
    refused = rollback(world.aws(), world.context(), never, PhaseLog(lambda line: None, world.fake.clock))
    assert (refused.outcome, exit_code(refused)) == ("unchanged", 1)
    assert "never deployed" in _step(refused, "rollback/target").reason
    back = rollback(world.aws(), world.context(), "", PhaseLog(lambda line: None, world.fake.clock))
    assert (back.outcome, back.passed, exit_code(back)) == ("rolled_back", True, 0)
    world.assert_at(first, V1, items)
    forward = rollback(world.aws(), world.context(), "rc-1.1.0", PhaseLog(lambda line: None, world.fake.clock))
    assert forward.outcome == "rolled_back"
    world.assert_at(second, V2, items)
    assert [d.kind for d in world.state().history] == ["deploy", "deploy", "rollback", "rollback"]


def test_an_unexpected_error_after_the_execution_still_rolls_back(world):
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    aws = world.aws()
    calls = []

    def get(url: str, timeout_s: float):
        calls.append(url)
        if len(calls) == 1:
            raise RuntimeError("a bug in a smoke check")
        return 200, b"ok"

    found, _ = _deploy(world, second, aws=replace(aws, get=get))
    _rolled_back(world, found, first, items, "smoke")
    assert "unexpected error: RuntimeError: a bug in a smoke check" in world.state().incidents[-1].reason


def test_a_state_that_cannot_be_written_after_the_execution_still_rolls_back_and_fails(world, monkeypatch):
    """S3 refuses every state write from the smoke phase on (injected): the rollback runs anyway, the deploy fails
    (exit 4), the writes it could not make are warnings."""
    first, items = _good(world)
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    save = state.Store.save

    def refusing(self, new, etag):
        if new.attempt is not None and new.attempt.phase in ("smoke", "rollback") or refusing.down:
            refusing.down = True
            raise state.StateConflict("s3 refused the state write (injected)")
        return save(self, new, etag)

    refusing.down = False
    monkeypatch.setattr(state.Store, "save", refusing)
    found, _ = _deploy(world, second)
    monkeypatch.setattr(state.Store, "save", save)
    assert (found.outcome, found.passed, exit_code(found)) == ("rolled_back", False, 4)
    assert _step(found, "deploy/failed").reason.startswith("state: s3 refused the state write")
    assert {f.rule for f in found.findings} == {"deploy/state-not-written"}
    assert world.deployed_visibility() == V1 and world.items() == items and not world.lock_present()
    left = world.state().attempt  # the last write that landed: the executed attempt, resolved by the next run
    assert (left.release, left.executed) == (second, True)
