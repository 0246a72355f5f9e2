"""Around a deploy or rollback (`ci.pipeline.announce`): the approval timeout refuses before anything runs; the
GitHub deployment (the stand-in repository, every request and answer checked against GitHub's OpenAPI description)
goes in_progress then success / failure / error with the outcome; GitHub refusing is a warning and the deploy still
runs; the notifications' findings join the report; no secret value reaches the report."""

from __future__ import annotations

import anyio
import pytest

from ci.config import load_config
from ci.core.report import Report, StepResult
from ci.integrations.github_rest import Client, GitHubError
from ci.output.render import dumps
from ci.pipeline import announce
from tests.integrations.github_world import Run, World

REPO, RUN, SHA = "octo-org/coagent", 7001, "a" * 40
TOKEN, WEBHOOK = "ghs_plantedannouncetoken01", "https://hooks.slack.test/services/T0/B0/planted-hook-secret"
CONFIG_TEXT = """
environments:
  production:
    region: eu-west-1
    stack_name: coagent-production
    artifacts_bucket: coagent-artifacts-production
    github_environment: production
    url: https://coagent.example.com
    approval_timeout_hours: 48
notifications:
  slack: {environments: [production], timeout_s: 1}
"""
CONFIG = load_config(CONFIG_TEXT)
STAGING = """  staging:
    region: eu-west-1
    stack_name: coagent-staging
    artifacts_bucket: coagent-artifacts-staging
"""


def job(name: str, started: str, job_id: int) -> dict:
    return {"id": job_id, "name": name, "started_at": started, "run_attempt": 1, "status": "in_progress"}


@pytest.fixture
def github(github_spec) -> World:
    made = World(github_spec, REPO)
    made.runs[RUN] = Run("2026-12-01T08:00:00Z", "2026-12-01T08:00:00Z", [job("deploy", "2026-12-01T09:00:00Z", 3)])
    return made


def _report(outcome: str, passed: bool, reason: str = "") -> Report:
    step = StepResult("deploy/record", "s3", "passed" if passed else "failed", reason=reason)
    return Report("deploy", (step,), (), 1.0, outcome=outcome,
                  delivery={"environment": "production", "release": SHA, "reason": reason})


def _announced(github, report: Report, webhook: str | None = None) -> tuple[Report, list[str]]:
    ran: list[str] = []

    async def run() -> Report:
        ran.append("deploy")
        return report

    audience = announce.Audience(Client(REPO, TOKEN, github), str(RUN), "deploy", webhook, None)
    return anyio.run(announce.announced, "deploy", CONFIG, "production", SHA, audience, run), ran


def test_a_deploy_marks_its_github_deployment_in_progress_then_success_with_the_url(github):
    report, ran = _announced(github, _report("deployed", True))
    assert ran == ["deploy"] and report.passed
    (deployment,) = github.bodies("POST", "/deployments")
    assert (deployment["ref"], deployment["environment"], deployment["auto_merge"],
            deployment["required_contexts"]) == (SHA, "production", False, [])
    states = [(b["state"], b.get("environment_url")) for b in github.bodies("POST", "/statuses")]
    assert states == [("in_progress", None), ("success", "https://coagent.example.com")]
    assert all(b["log_url"] == f"https://github.com/{REPO}/actions/runs/{RUN}" for b in github.bodies("POST", "/statuses"))
    rules = {f.rule: f.severity for f in report.findings}
    assert rules["github/approval"] == "info" and rules["github/deployment"] == "info"
    assert rules["notify/failed"] == "warning"  # slack configured, no webhook given: said, never fails the deploy


@pytest.mark.parametrize("outcome, state", [("rolled_back", "failure"), ("unrecoverable", "error"),
                                            ("unchanged", "failure")])
def test_a_failed_deploy_ends_its_deployment_with_the_outcome(github, outcome, state):
    report, _ = _announced(github, _report(outcome, False, f"it ended {outcome}"))
    final = github.bodies("POST", "/statuses")[-1]
    assert (final["state"], final["description"], "environment_url" in final) == (state, f"it ended {outcome}", False)
    assert not report.passed


def test_a_run_that_waited_too_long_deploys_nothing(github):
    github.runs[RUN].jobs[0]["started_at"] = "2026-12-03T08:00:01Z"
    report, ran = _announced(github, _report("deployed", True))
    assert ran == [] and not report.passed and report.outcome == "unchanged"
    assert report.steps[0].id == "deploy/approval" and "over production's approval timeout of 48 h" in report.steps[0].reason
    assert github.writes == []


def test_github_refusing_the_deployment_is_a_warning_and_the_deploy_still_runs(github):
    github.fail.append(("POST", f"/repos/{REPO}/deployments", 403, "Resource not accessible by integration"))
    report, ran = _announced(github, _report("deployed", True), WEBHOOK)
    assert ran == ["deploy"] and report.passed
    (warning,) = [f for f in report.findings if f.rule == "github/deployment"]
    assert warning.severity == "warning" and "deployments: write" in warning.message
    text = dumps(report)
    assert TOKEN not in text and "planted-hook-secret" not in text


def test_github_unreachable_for_the_approval_check_refuses_with_a_report():
    def unreachable(request):
        raise GitHubError("could not reach the GitHub API (timed out); check the network and the API URL")

    report, ran = _announced(unreachable, _report("deployed", True))
    assert ran == [] and report.outcome == "unchanged" and not report.passed
    assert report.steps[0].reason.startswith("the approval timeout could not be checked: could not reach the GitHub")


def test_a_run_that_raises_ends_its_deployment_in_error_and_is_heard_about_before_going_on_up(github):
    async def run() -> Report:
        raise KeyError("Outputs")

    audience = announce.Audience(Client(REPO, TOKEN, github), str(RUN), "deploy", None, None)
    with pytest.raises(KeyError):
        anyio.run(announce.announced, "deploy", CONFIG, "production", SHA, audience, run)
    final = github.bodies("POST", "/statuses")[-1]
    assert final["state"] == "error" and "deploy crashed (KeyError" in final["description"]


def test_the_last_environment_of_the_promotion_is_githubs_production_environment(github):
    config = load_config(CONFIG_TEXT.replace("    approval_timeout_hours: 48\n", "    promote_from: staging\n")
                         .replace("environments:\n", "environments:\n" + STAGING))
    audience = announce.Audience(Client(REPO, TOKEN, github), "", "", None, None)

    async def run() -> Report:
        return _report("deployed", True)

    for env in ("staging", "production"):
        anyio.run(announce.announced, "deploy", config, env, SHA, audience, run)
    assert [b["production_environment"] for b in github.bodies("POST", "/deployments")] == [False, True]


def test_a_github_enterprise_run_links_to_its_own_server(github):
    client = Client(REPO, TOKEN, github, api_url="https://ghe.example.com/api/v3")
    assert announce.Audience(client, "9").run_url == f"https://ghe.example.com/{REPO}/actions/runs/9"


def test_a_ghe_com_run_links_to_its_tenant_not_its_api_host(github):
    client = Client(REPO, TOKEN, github, api_url="https://api.acme.ghe.com/")
    assert announce.Audience(client, "9").run_url == f"https://acme.ghe.com/{REPO}/actions/runs/9"
