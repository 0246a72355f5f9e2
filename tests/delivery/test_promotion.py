"""The same release moves forward, against the moto server: production (promote_from: staging) deploys only a
release whose latest staging deploy ended `deployed`, read from staging's state with staging's clients, and gets it
through promote (every checksum verified, the manifest byte for byte), never rebuilt; otherwise it refuses before
touching anything, with one line naming what to deploy first (exit 1)."""

from __future__ import annotations

import pytest

from ci.cli.app import main
from ci.delivery import plan_evidence, release, state
from ci.delivery.changeset import stack_status
from ci.delivery.deploy import Request, deploy
from ci.delivery.phase_log import PhaseLog
from ci.delivery.promotion import cleared, refusal
from ci.delivery.state import Deployment, EnvState
from ci.output.render import failure_line
from ci.pipeline.deliver import exit_code
from tests.delivery.deploy_world import COMMITS, World, template
from tests.delivery.local_http import Answer

SHARES_MOTO = True

TAG = "rc-1.4.0"


@pytest.fixture
def worlds(moto_url):
    staging = World(moto_url, "staging", alarm=False, retries=0)
    production = World(moto_url, "production", alarm=False, retries=0, upstream=staging)
    yield staging, production
    staging.close()
    production.close()


def _run(world: World, ref: str, upstream: World | None = None):
    source = (upstream.context(), upstream.aws()) if upstream else None
    return deploy(world.aws(), world.context(), Request(ref, upstream=source), PhaseLog(lambda line: None,
                                                                                        world.fake.clock))


def _release(staging: World, commit: str, visibility: int = 30, tags: tuple[str, ...] = ()) -> str:
    return staging.store(commit, template(staging.stack_name, visibility), tags=tags, also=("production",))


def _manifest(world: World, rid: str) -> bytes | None:
    try:
        return world.s3.get_object(Bucket=world.bucket, Key=f"releases/{rid}/manifest.json")["Body"].read()
    except world.s3.exceptions.NoSuchKey:
        return None


def _refused(found, production: World, rid: str, why: str) -> None:
    assert (found.outcome, found.passed, exit_code(found)) == ("unchanged", False, 1)
    line = failure_line(found)
    assert "\n" not in line and why in line
    assert f"deploy it to staging first (`bayon deploy --env staging --release {rid}`), then to production" in line
    assert _manifest(production, rid) is None  # nothing promoted
    assert "deploy/preflight" not in [s.id for s in found.steps]
    assert stack_status(production.client("cloudformation"), production.stack_name) is None  # never created
    assert production.state().current is None and not production.lock_present()


def test_production_deploys_a_release_staging_ran_promoted_by_tag_never_rebuilt(worlds):
    staging, production = worlds
    rid = _release(staging, COMMITS[0], tags=(TAG,))
    assert _run(staging, TAG).outcome == "deployed"
    found = _run(production, TAG, staging)
    assert (found.outcome, exit_code(found)) == ("deployed", 0), found.steps
    promoted = next(s for s in found.steps if s.id == "deploy/promotion")
    assert promoted.reason.startswith(f"release {rid[:12]} deployed to staging at ")
    assert "copied 2 objects from s3://" in promoted.reason and "every checksum verified; nothing rebuilt" in promoted.reason
    assert _manifest(production, rid) == _manifest(staging, rid)
    assert release.resolve(production.s3, production.bucket, TAG) == rid  # the tag came along
    assert production.state().current == rid and production.deployed_visibility() == 30

    again = _run(production, rid, staging)  # already there: verified, not copied again
    assert again.outcome == "deployed"
    assert f"already in s3://{production.bucket}" in next(s for s in again.steps if s.id == "deploy/promotion").reason


def test_production_refuses_without_a_green_staging_record_of_the_same_release(worlds):
    staging, production = worlds
    other, never, failing = (_release(staging, COMMITS[i], 30 + i) for i in (1, 2, 3))
    assert _run(staging, other).outcome == "deployed"  # staging's record is of another commit
    _refused(_run(production, never, staging), production, never, "(it was never deployed there)")

    staging.health = [Answer(500, b"boom"), Answer(200, b"ok")]
    assert _run(staging, failing).outcome == "rolled_back"
    _refused(_run(production, failing, staging), production, failing, "(its latest deploy there ended rolled_back")
    assert production.state().history[-1].outcome == "unchanged"


def test_a_release_changed_in_staging_after_packaging_is_not_promoted(worlds):
    staging, production = worlds
    rid = _release(staging, COMMITS[4])
    assert _run(staging, rid).outcome == "deployed"
    staging.s3.put_object(Bucket=staging.bucket, Key=f"releases/{rid}/parameters.json", Body=b'{"production": {}}')
    found = _run(production, rid, staging)
    assert (found.outcome, exit_code(found)) == ("unchanged", 1)
    assert "does not match its release manifest" in failure_line(found)
    assert _manifest(production, rid) is None


def _record(release_id: str, kind: str, outcome: str, previous: str | None = None) -> Deployment:
    return Deployment(release=release_id, kind=kind, outcome=outcome, started="2026-12-01T12:00:00Z",
                      finished="2026-12-01T12:05:00Z", run_id="r", previous=previous)


A, B = COMMITS[5], COMMITS[6]


@pytest.mark.parametrize(("history", "why"), [
    ((), "it was never deployed there"),
    ((_record(A, "deploy", "unchanged"),), "it was never deployed there"),
    ((_record(A, "deploy", "deployed"),), None),
    ((_record(A, "deploy", "deployed"), _record(A, "deploy", "unchanged")), None),
    ((_record(A, "deploy", "deployed"), _record(B, "deploy", "deployed", A)), None),
    ((_record(A, "deploy", "deployed"), _record(A, "deploy", "rolled_back")),
     "its latest deploy there ended rolled_back (2026-12-01T12:05:00Z)"),
    ((_record(B, "deploy", "deployed"), _record(A, "deploy", "deployed", B), _record(B, "rollback", "rolled_back", A)),
     f"it was rolled back there to {B[:12]} (2026-12-01T12:05:00Z)"),
])
def test_the_upstream_record_that_clears_a_release(history, why):
    found = refusal(EnvState(environment="staging", history=history), A)
    assert found == (why or history[0])  # cleared: the deploy that did it, the one record all three checks use
    assert cleared(EnvState(environment="staging", history=history), A) == (None if why else history[0])


def test_flags_that_do_not_apply_are_usage_errors(worlds, tmp_path, capsys):
    staging, production = worlds
    (tmp_path / "pipeline.yaml").write_text(production.config_text)
    code = main(["deploy", "--env", "staging", "--release", COMMITS[0], "--from-aws-role-arn",
                 "arn:aws:iam::123456789012:role/staging", "--source", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "environments.staging has no promote_from" in err


def _bucket(world: World) -> dict[str, str]:
    listed = world.s3.list_objects_v2(Bucket=world.bucket).get("Contents", [])
    return {o["Key"]: o["ETag"] for o in listed}


def test_a_dry_run_of_production_changes_nothing_in_its_bucket_or_state(worlds):
    staging, production = worlds
    first = _release(staging, COMMITS[0])
    assert _run(staging, first).outcome == "deployed"
    assert _run(production, first, staging).outcome == "deployed"
    second, never = _release(staging, COMMITS[1], 45), _release(staging, COMMITS[2], 60)
    assert _run(staging, second).outcome == "deployed"
    before = _bucket(production)

    def dry(ref: str):
        return deploy(production.aws(), production.context(),
                      Request(ref, dry_run=True, upstream=(staging.context(), staging.aws())),
                      PhaseLog(lambda line: None, production.fake.clock))

    found = dry(second)  # green on staging: shown from staging's bucket, not copied
    assert (found.outcome, exit_code(found)) == ("unchanged", 0), failure_line(found)
    promoted = next(s for s in found.steps if s.id == "deploy/promotion")
    assert f"dry run: read from s3://{staging.bucket}, nothing copied" in promoted.reason
    assert "dry run" in next(s for s in found.steps if s.id == "deploy/change-set").reason
    refused = dry(never)  # never deployed to staging: refused, and not recorded either
    assert (refused.outcome, exit_code(refused)) == ("unchanged", 1)
    assert _bucket(production) == before  # no release copied, no history record written
    assert _manifest(production, second) is None
    assert [d.release for d in production.state().history] == [first]
    assert production.deployed_visibility() == 30


def test_the_plan_judges_staging_by_the_same_record_as_the_promotion(worlds):
    """A release deployed green on staging and rolled back from since is not green for the plan either."""
    staging, production = worlds
    history = (_record(B, "deploy", "deployed"), _record(A, "deploy", "deployed", B),
               _record(B, "rollback", "rolled_back", A))
    store = state.Store(staging.s3, staging.bucket, staging.name)
    store.save(EnvState(environment="staging", history=history, last_known_good=B, current=B), None)
    before = plan_evidence.Where(staging.aws(), staging.context())
    assert plan_evidence.staging(before, A).answer == "no"
    assert plan_evidence.staging(before, B).answer == "yes"


def test_a_dry_run_of_production_binds_the_template_to_productions_bucket_as_the_deploy_does(worlds):
    """Read from staging's bucket, the template still names production's: the change set the dry run shows is the
    one the deploy then creates (a CodeUri-like reference to the release's code object)."""
    staging, production = worlds
    first = _release(staging, COMMITS[0])
    assert _run(staging, first).outcome == "deployed"
    assert _run(production, first, staging).outcome == "deployed"
    rid = release.release_id(COMMITS[1])
    key = f"releases/{rid}/code/app.zip"
    staging.s3.put_object(Bucket=staging.bucket, Key=key, Body=b"zip")
    body = template(staging.stack_name, 30)
    body["Resources"]["Jobs"]["Properties"]["Tags"] = [{"Key": "code", "Value": f"s3://{staging.bucket}/{key}"}]
    second = staging.store(COMMITS[1], body, also=("production",))
    assert _run(staging, second).outcome == "deployed"

    sent: list[str] = []
    aws = production.aws()
    aws.cloudformation.meta.events.register("before-parameter-build.cloudformation.CreateChangeSet",
                                            lambda params, **_: sent.append(params["TemplateBody"]))
    upstream = (staging.context(), staging.aws())
    found = [deploy(aws, production.context(), Request(second, dry_run=dry, upstream=upstream),
                    PhaseLog(lambda line: None, production.fake.clock)) for dry in (True, False)]
    assert [f.outcome for f in found] == ["unchanged", "deployed"], failure_line(found[0])
    assert len(sent) == 2 and sent[0] == sent[1]
    assert f"s3://{production.bucket}/{key}" in sent[0] and staging.bucket not in sent[0]
    rows = [next(t for t in f.tables if t.step == "deploy/change-set").rows for f in found]
    assert rows[0] == rows[1]
