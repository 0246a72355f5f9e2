"""The approval timeout: how long a run waited (run start to the deploy job's start, latest attempt) read from the
Actions API of a stand-in repository (requests and answers checked against GitHub's OpenAPI description), refused
over approval_timeout_hours (exit 1, one line), through bayon and the Dagger face."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import dagger
import jsonschema
import pytest
from apps import COAGENT
from dagger import dag

from ci.cli.app import main
from ci.config import load_config
from ci.core.errors import UsageError
from ci.executors.dagger import DaggerExecutor
from ci.integrations.github_rest import Client
from ci.integrations.github_runs import approval_wait
from ci.main import Ci, GateFailed
from ci.output.render import dumps
from ci.pipeline.approval import Waited, approval_check, check_approval, duration
from tests import chain
from tests.integrations.github_world import Run, World, served

TOKEN = "ghs_" + "PLANTEDrun5" * 4
REPO = "octo-org/coagent"
RUN = 7001
PRODUCTION = load_config((COAGENT / "pipeline.yaml").read_text()).environments["production"]  # 48 h


def job(name: str, started: str, attempt: int = 1, job_id: int = 1) -> dict:
    return {"id": job_id, "name": name, "started_at": started, "run_attempt": attempt, "status": "in_progress"}


@pytest.fixture
def world(github_spec) -> World:
    made = World(github_spec, REPO)
    made.runs[RUN] = Run("2026-12-01T08:00:00Z", "2026-12-01T07:59:00Z", [
        job("plan", "2026-12-01T08:01:00Z", job_id=1), job("approve", "2026-12-01T08:05:00Z", job_id=2),
        job("deploy", "2026-12-01T11:12:30Z", job_id=3)])
    return made


def client(world: World) -> Client:
    return Client(REPO, TOKEN, world)


def test_the_wait_is_the_deploy_jobs_start_minus_the_runs_start(world: World):
    assert approval_wait(client(world), str(RUN), "deploy") == 3 * 3600 + 12 * 60 + 30
    assert world.writes == [] and {r.url.split("?")[0].rsplit("/", 1)[-1] for r in world.requests} == {
        str(RUN), "jobs"}


def test_a_missing_run_start_falls_back_to_the_runs_creation(world: World):
    world.runs[RUN] = Run(None, "2026-12-01T08:00:00Z", [job("deploy", "2026-12-01T09:00:00Z", 1, 3)])
    assert approval_wait(client(world), str(RUN), "deploy") == 3600


def test_a_re_run_resets_the_wait_to_its_own_attempt(world: World):
    world.runs[RUN].jobs[-1]["started_at"] = "2026-12-03T09:00:00Z"
    assert approval_check(PRODUCTION, "production", client(world), str(RUN), "deploy").over  # 49 h: refused
    world.runs[RUN].reruns[2] = "2026-12-03T10:00:00Z"  # re-run: GitHub resets run_started_at
    world.runs[RUN].jobs.append(job("deploy", "2026-12-03T10:02:00Z", 2, 4))
    assert approval_wait(client(world), str(RUN), "deploy") == 120
    waited = approval_check(PRODUCTION, "production", client(world), str(RUN), "deploy")
    assert not waited.over and waited.line == "waited 2 min of 48 h"
    (jobs,) = [r for r in world.requests[-2:] if r.url.split("?")[0].endswith("/jobs")]
    assert "filter=latest" in jobs.url


def test_within_the_limit_says_how_long_of_how_long(world: World):
    waited = approval_check(PRODUCTION, "production", client(world), str(RUN), "deploy")
    assert not waited.over and waited.line == "waited 3 h 12 min of 48 h"


def test_over_the_limit_refuses_with_one_line_and_the_fix(world: World):
    world.runs[RUN].jobs[-1]["started_at"] = "2026-12-03T08:00:01Z"
    waited = approval_check(PRODUCTION, "production", client(world), str(RUN), "deploy")
    assert waited.over and waited.line == ("the run waited 48 h for its approvals, over production's approval "
                                           "timeout of 48 h; start a new run (re-run the workflow) and approve it "
                                           "in time")


def test_no_timeout_asks_github_nothing():
    dev = load_config((COAGENT / "pipeline.yaml").read_text()).environments["dev"]
    waited = approval_check(dev, "dev", None, "", "")
    assert waited == Waited("dev", None, None) and not waited.over


@pytest.mark.parametrize("run_id, job_name, given, expected", [
    ("", "deploy", True, "--github-run-id: production has an approval timeout of 48 h"),
    (str(RUN), "", False, "--github-job, --github-token: production has an approval timeout of 48 h"),
    ("run-7", "deploy", True, "--github-run-id 'run-7': give the run's number"),
    (str(RUN), "Deploy", True, "--github-job 'Deploy': run 7001 has no job of that name"),
])
def test_missing_or_wrong_run_and_job_are_usage_errors(world: World, run_id: str, job_name: str, given: bool,
                                                       expected: str):
    with pytest.raises(UsageError) as error:
        approval_check(PRODUCTION, "production", client(world) if given else None, run_id, job_name)
    assert str(error.value).startswith(expected) and "\n" not in str(error.value)


def test_durations_read_as_hours_and_minutes():
    assert [duration(s) for s in (0, 59, 60, 3600, 3660, 172800)] == ["0 min", "0 min", "1 min", "1 h", "1 h 1 min",
                                                                       "48 h"]


def _app(tmp_path: Path) -> Path:
    (tmp_path / "pipeline.yaml").write_text((COAGENT / "pipeline.yaml").read_text())
    return tmp_path


def test_bayon_check_approval_passes_then_refuses_with_exit_1(world: World, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GH_RUN_TOKEN", TOKEN)
    with served(world) as url:
        argv = ["check-approval", "--source", str(_app(tmp_path)), "--env", "production", "--github-run-id", str(RUN),
                "--github-job", "deploy", "--github-token", "env://GH_RUN_TOKEN", "--github-repository", REPO,
                "--github-api-url", url]
        passed = main(argv), capsys.readouterr()
        world.runs[RUN].jobs[-1]["started_at"] = "2026-12-03T09:00:00Z"
        refused = main(argv), capsys.readouterr()
    assert world.errors == []
    assert passed[0] == 0 and "waited 3 h 12 min of 48 h" in passed[1].out
    assert refused[0] == 1 and refused[1].err == (
        "bayon: check-approval of production failed: the run waited 49 h for its approvals, over production's "
        "approval timeout of 48 h; start a new run (re-run the workflow) and approve it in time\n")
    assert all(TOKEN not in text for result in (passed, refused) for text in (result[1].out, result[1].err))


def test_the_dagger_face_fails_the_call_over_the_limit(world: World, monkeypatch: pytest.MonkeyPatch):
    async def read(self, path):
        return (COAGENT / path).read_text() if path == "pipeline.yaml" else None


    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(dagger.Secret, "plaintext", chain.planted_plaintext)
    world.runs[RUN].jobs[-1]["started_at"] = "2026-12-05T08:00:00Z"
    with served(world) as url, pytest.raises(GateFailed) as failed:
        asyncio.run(Ci().check_approval(source=dag.directory(), env="production", github_run_id=str(RUN),
                                        github_job="deploy", github_token=dag.set_secret("gh", TOKEN),
                                        github_repository=REPO, github_api_url=url))
    first = str(failed.value).split("\n", 1)[0]
    assert first.startswith("check-approval of production failed: the run waited 96 h") and TOKEN not in str(
        failed.value)


class _Files:
    async def read_source_file(self, path: str) -> str | None:
        return (COAGENT / path).read_text() if path == "pipeline.yaml" else None


def test_the_refusal_is_the_one_report_shape_with_the_environment_unchanged(world: World):
    world.runs[RUN].jobs[-1]["started_at"] = "2026-12-04T08:00:00Z"
    report = asyncio.run(check_approval(_Files(), "production", str(RUN), "deploy", TOKEN, REPO, transport=world))
    data = json.loads(dumps(report))
    schema = json.loads((Path(__file__).parents[2] / "ci" / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert (data["passed"], data["outcome"], data["delivery"]["waited_s"]) == (False, "unchanged", 72 * 3600)
