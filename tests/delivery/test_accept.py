"""`accept` through `bayon` against the moto server: the sample app's real deployed-stack Jest suite run against a
deployed release (its ApiUrl output is a local HTTP server standing in for API Gateway, since moto runs no Lambda),
the stack outputs reaching it as STACK_<OutputKey>, the environment's credentials only as that step's environment;
a failing API fails the report at the test's line and publishes nothing; a passing one publishes the rc's GitHub
release (the stand-in repository, checked against GitHub's OpenAPI description); a release the environment does not
run, or a tag of another release, is refused before any test runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.cli.app import main
from tests.apps import copy_app
from tests.delivery.deploy_world import COMMITS, World, template
from tests.delivery.local_http import Answer, serve

SHARES_MOTO = True
SECRET = "planted-accept-secret-7d41"
pytestmark = pytest.mark.tools


@pytest.fixture
def world(moto_url, tmp_path, monkeypatch):
    made = World(moto_url, "acc", alarm=False, monitoring_minutes=0, retries=0)
    app = copy_app(tmp_path / "app")
    (app / "pipeline.yaml").write_text("tests:\n  node_versions: [20, 22, 24]\n" + made.config_text)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPLANTEDACCEPT01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    made.source = str(app)
    made.api = {"status": 200}
    with serve(lambda n, path: _api(made.api["status"], path)) as (base, seen):
        made.api_base, made.api_seen = base, seen
        yield made
    made.close()


def _api(status: int, path: str) -> Answer:
    """The listings API as the deployed stack answers it (status: what GET /listings answers)."""
    if path == "/Prod/listings":
        return Answer(status, json.dumps({"items": [], "count": 0}).encode())
    return Answer(404, b'{"message":"listing not found"}')


def _deployed(world: World, capsys, commit: str, tags: tuple[str, ...] = ()) -> str:
    body = template(world.stack_name)
    body["Outputs"]["ApiUrl"] = {"Value": f"{world.api_base}/Prod/"}
    release_id = world.store(commit, body, tags=tags)
    code = main(["deploy", "--env", "acc", "--release", release_id, "--source", world.source])
    capsys.readouterr()
    assert code == 0
    # moto leaves Outputs out after a CREATE change set (AWS computes them): an update with the same template
    # makes it compute them, as AWS had
    cfn = world.client("cloudformation")
    tags = cfn.describe_stacks(StackName=world.stack_name)["Stacks"][0]["Tags"]
    cfn.update_stack(StackName=world.stack_name, UsePreviousTemplate=True, Tags=tags)
    return release_id


def _accept(world: World, capsys, release_id: str, *flags: str) -> tuple[int, dict, str]:
    code = main(["accept", "--env", "acc", "--release", release_id, "--skip", "lighthouse", "--format", "json",
                 "--source", world.source, *flags])
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    return code, json.loads(out.out), out.err


def test_the_deployed_stack_tests_run_against_its_outputs_and_then_the_rc_is_published(world, served_github,
                                                                                       capsys, monkeypatch):
    monkeypatch.setenv("PLANTED_GH_TOKEN", "ghs_plantedaccepttoken0001")
    release_id = _deployed(world, capsys, COMMITS[0], tags=("rc-1.4.0",))
    flags = ["--tag", "rc-1.4.0", "--github-token", "env://PLANTED_GH_TOKEN", "--github-repository",
             served_github.repository, "--github-api-url", served_github.url]
    world.api["status"] = 500  # the deployed API fails: a finding at the test's line, nothing published
    code, report, _ = _accept(world, capsys, release_id, *flags)
    assert code == 1 and not report["passed"] and served_github.writes == []
    (finding,) = [f for f in report["findings"] if f["tool"] == "jest"]
    assert finding["file"] == "backend/deployed/listings.deployed.test.mjs" and finding["line"] > 0
    assert "lists listings as JSON" in finding["message"] and report["steps"][-1]["status"] == "skipped"

    world.api["status"] = 200
    code, report, out = _accept(world, capsys, release_id, *flags)
    steps = {s["id"]: s for s in report["steps"]}
    assert code == 0 and report["passed"]
    assert steps["accept/target"]["status"] == "passed" and "ApiUrl" in steps["accept/target"]["reason"]
    assert steps["tests/deployed/acc"]["status"] == "passed"
    assert steps["performance/lighthouse/acc"] == {**steps["performance/lighthouse/acc"], "status": "skipped",
                                                   "reason": "left out by --skip lighthouse"}
    paths = [path for _, path, _, _ in world.api_seen.requests]
    assert "/Prod/listings" in paths and any(p.startswith("/Prod/listings/") for p in paths)
    assert report["steps"][-1]["id"] == "github/release"
    assert "left out by --skip: lighthouse" in report["steps"][-1]["reason"]
    (made,) = served_github.bodies("POST", "/releases")
    assert (made["tag_name"], made["draft"], made["prerelease"]) == ("rc-1.4.0", True, True)
    (published,) = served_github.bodies("PATCH", f"/releases/{served_github.releases[0]['id']}")
    assert published == {"draft": False, "prerelease": True, "make_latest": "false"}
    assert "ghs_plantedaccepttoken0001" not in json.dumps(report) + out


def test_a_release_the_environment_does_not_run_or_another_releases_tag_is_refused_before_any_test(world, capsys):
    running = _deployed(world, capsys, COMMITS[0])
    other = world.store(COMMITS[1], template(world.stack_name, 45), tags=("rc-2.0.0",))
    before = len(world.api_seen.requests)
    code, report, err = _accept(world, capsys, other)
    assert code == 1 and [s["id"] for s in report["steps"]] == ["accept/target"]
    assert f"acc runs {running[:12]}, not {other[:12]}: deploy it first" in err
    code, report, err = _accept(world, capsys, running, "--tag", "rc-2.0.0")
    assert code == 1 and f"tag rc-2.0.0 names release {other[:12]}, not {running[:12]}" in err
    assert len(world.api_seen.requests) == before


def test_accept_takes_only_a_release_candidates_tag(world, capsys):
    code = main(["accept", "--env", "acc", "--release", COMMITS[0], "--tag", "v1.4.0", "--source", world.source])
    assert code == 2 and "--tag v1.4.0: accept publishes a release candidate's GitHub release" in capsys.readouterr().err


def test_a_part_that_cannot_run_fails_the_acceptance_unless_skipped_on_purpose(world, capsys):
    release_id = _deployed(world, capsys, COMMITS[0])
    (Path(world.source) / "jest.deployed.config.mjs").unlink()
    code = main(["accept", "--env", "acc", "--release", release_id, "--format", "json", "--source", world.source])
    steps = {s["id"]: s for s in json.loads(capsys.readouterr().out)["steps"]}
    assert code == 1
    assert steps["tests/deployed/acc"]["status"] == "failed" and steps["tests/deployed/acc"]["reason"].endswith(
        "add it, or pass --skip integration")
    assert steps["performance/lighthouse/acc"] == {**steps["performance/lighthouse/acc"], "status": "failed",
                                                   "reason": "environments.acc has no url and no amplify app: nothing "
                                                   "to audit; set environments.acc.url, or pass --skip lighthouse"}
    code = main(["accept", "--env", "acc", "--release", release_id, "--skip", "integration", "--skip", "lighthouse",
                 "--source", world.source])
    capsys.readouterr()
    assert code == 0
