"""Environments as code (`configure-github`): pipeline.yaml's environments and approvals as GitHub environments,
every request checked against GitHub's OpenAPI description and answered by a stand-in repository whose answers
are checked too; a second run writes nothing; GitHub's refusals (401, 404, 422) one line with the fix, its 303
("exists") accepted; through bayon and the Dagger face with the token never shown."""

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
from ci.integrations import github_environments as environments
from ci.integrations.github_environments import PAID_PLAN_RULE, Pattern, Wanted
from ci.integrations.github_rest import Client, GitHubError
from ci.main import Ci
from ci.output.render import dumps
from ci.pipeline import github_setup
from tests import chain
from tests.integrations.github_world import World, served

TOKEN = "github_pat_" + "PLANTEDadm1n" * 5
REPO = "octo-org/coagent"
USERS = {"coagent-devops-lead": 101, "coagent-sre": 102, "coagent-product-manager": 103, "carol": 104}
SAMPLE = load_config((COAGENT / "pipeline.yaml").read_text())


@pytest.fixture
def world(github_spec) -> World:
    made = World(github_spec, REPO)
    made.users.update(USERS)
    made.teams["octo-org/release-managers"] = 201
    return made


def client(world: World) -> Client:
    return Client(REPO, TOKEN, world)


def wanted() -> list[Wanted]:
    return github_setup.wanted(SAMPLE)


def run(world: World, dry_run: bool = False):
    return environments.reconcile(client(world), wanted(), dry_run)


def lines(outcome) -> list[str]:
    return [change.what for change in outcome.changes]


# 1. what pipeline.yaml asks for

def test_the_sample_apps_environments_and_approvals_become_four_github_environments():
    assert wanted() == [
        Wanted("development", patterns=(Pattern("develop", "branch"),)),
        Wanted("staging", ("coagent-devops-lead",), True, 0, (Pattern("rc-*", "tag"),)),
        Wanted("production", ("coagent-product-manager",), True, 5, (Pattern("v*", "tag"),)),
        Wanted("production-approval", ("coagent-devops-lead", "coagent-sre"), True, 0, (Pattern("v*", "tag"),)),
    ]


def test_an_environment_without_a_trigger_lets_any_ref_deploy():
    config = load_config("environments:\n  qa:\n    region: eu-west-1\n    stack_name: qa\n    artifacts_bucket: qa-art\n"
                         "    github_environment: qa\n")
    assert github_setup.wanted(config) == [Wanted("qa")]


def test_two_pipeline_environments_disagreeing_on_one_github_environment_are_refused():
    config = load_config("environments:\n" + "".join(
        f"  {name}:\n    region: eu-west-1\n    stack_name: {name}\n    artifacts_bucket: {name}-art\n"
        f"    github_environment: shared\n    trigger: {{tags: {tags}}}\n" for name, tags in (("a", "rc"), ("b", "release"))))
    with pytest.raises(UsageError, match="^GitHub environment shared: environments.b gives it other deployment "
                                         "patterns"):
        github_setup.wanted(config)


# 2. the first run creates, the second writes nothing

def test_the_first_run_creates_every_environment_with_its_reviewers_timer_and_patterns(world: World):
    outcome = run(world)
    assert lines(outcome) == [
        "created environment development (only the name patterns below deploy)",
        "deployment pattern of development: +develop (branch)",
        "created environment staging (reviewers coagent-devops-lead; prevent_self_review; only the name patterns "
        "below deploy)",
        "deployment pattern of staging: +rc-* (tag)",
        "created environment production (reviewers coagent-product-manager; prevent_self_review; wait timer 5 min; "
        "only the name patterns below deploy)",
        "deployment pattern of production: +v* (tag)",
        "created environment production-approval (reviewers coagent-devops-lead, coagent-sre; prevent_self_review; "
        "only the name patterns below deploy)",
        "deployment pattern of production-approval: +v* (tag)",
    ]
    production = world.environments["production"]
    assert (production.wait_timer, production.prevent_self_review, production.reviewers) == (
        5, True, [{"type": "User", "id": 103}])
    assert production.policy == {"protected_branches": False, "custom_branch_policies": True}
    assert [(p["name"], p["type"]) for p in production.patterns] == [("v*", "tag")]
    assert world.environments["development"].reviewers == [] and "wait_timer" not in world.bodies(
        "PUT", "/environments/development")[0]  # 0 is never sent to create: GitHub's docs ask for 1 to 43,200
    assert not outcome.private


def test_a_second_run_sends_no_writing_request_and_says_nothing_to_change(world: World):
    run(world)
    written, asked = len(world.writes), len(world.requests)
    assert lines(run(world)) == []
    assert len(world.writes) == written == 8 and len(world.requests) > asked


def test_drift_is_put_back_and_each_change_printed(world: World):
    run(world)
    production = world.environments["production"]
    production.wait_timer, production.reviewers = 30, [{"type": "User", "id": 104}]
    production.patterns.append({"id": 9, "name": "main", "type": "branch"})
    world.environments["staging"].prevent_self_review = False
    asked = len(world.requests)
    assert lines(run(world)) == [
        "prevent_self_review of staging: false -> true",
        "wait timer of production: 30 -> 5 min",
        "reviewers of production: +coagent-product-manager -carol",
        "deployment pattern of production: -main (branch)",
    ]
    assert [w for w in world.writes[len(world.writes) - 3:]] == [
        ("PUT", f"/repos/{REPO}/environments/staging"), ("PUT", f"/repos/{REPO}/environments/production"),
        ("DELETE", f"/repos/{REPO}/environments/production/deployment-branch-policies/9")]
    assert world.environments["production"].reviewers == [{"type": "User", "id": 103}]
    assert len(world.requests) > asked and lines(run(world)) == []


def test_a_dry_run_reads_only(world: World):
    outcome = run(world, dry_run=True)
    assert len(outcome.changes) == 8 and world.writes == [] and world.environments == {}


def test_teams_resolve_to_their_ids(world: World):
    client_ = client(world)
    assert environments.reviewer_ids(client_, ("octo-org/release-managers", "carol")) == [
        {"type": "Team", "id": 201}, {"type": "User", "id": 104}]
    environments.reconcile(client_, [Wanted("release", ("octo-org/release-managers",), True)])
    assert world.environments["release"].reviewers == [{"type": "Team", "id": 201}]


# 3. GitHub's answers

ADMIN_FIX = "Administration: write on the repository, from a fine-grained personal access token or a GitHub App"


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and TOKEN not in message
    return message


def test_401_says_the_token_was_refused(world: World):
    world.fail.append(("GET", ".*", 401, "Bad credentials"))
    with pytest.raises(GitHubError) as error:
        run(world)
    assert one_line(error) == (f"GitHub refused GET /repos/{REPO} (401: Bad credentials); the token was refused; "
                               "pass a valid one")


@pytest.mark.parametrize("status, message", [(404, "Not Found"), (403, "Resource not accessible by integration")])
def test_403_and_404_say_the_token_needs_administration_write_never_github_token(world: World, status: int,
                                                                                 message: str):
    world.fail.append(("GET", f"/repos/{REPO}/environments", status, message))
    with pytest.raises(GitHubError) as error:
        run(world)
    said = one_line(error)
    assert f"({status}: {message})" in said and ADMIN_FIX in said and "GITHUB_TOKEN can never have it" in said


def test_an_unknown_reviewer_is_one_line_naming_it(world: World):
    del world.users["coagent-sre"]
    with pytest.raises(GitHubError) as error:
        run(world)
    assert one_line(error).startswith("GitHub knows no user coagent-sre (404 on GET /users/coagent-sre); fix the "
                                      "reviewer in pipeline.yaml approvals")


def test_a_422_is_one_line_with_githubs_message_and_on_a_private_repository_the_paid_plan_rule(world: World):
    world.private = True
    world.fail.append(("PUT", f"/repos/{REPO}/environments/staging", 422, "Failed to create the environment"))
    with pytest.raises(GitHubError) as error:
        run(world)
    said = one_line(error)
    assert said.startswith(f"GitHub refused PUT /repos/{REPO}/environments/staging (422: Failed to create the "
                           "environment); GitHub could not process the request: see its message; on a private "
                           "repository, environments and their branch and tag policies need GitHub Pro, Team or "
                           "Enterprise, and required reviewers and wait timers need GitHub Enterprise (GitHub Free, "
                           "Pro and Team offer them on public repositories only)")


def test_on_a_private_repository_any_refused_environment_gets_the_plan_rule(world: World):
    world.private = True
    world.fail.append(("PUT", f"/repos/{REPO}/environments/development", 422, "Failed to create the environment"))
    with pytest.raises(GitHubError) as error:
        run(world)  # development has no reviewers or wait timer: on GitHub Free a private repo has no environments
    assert one_line(error).endswith("; " + PAID_PLAN_RULE)
    world.private = False
    with pytest.raises(GitHubError) as error:
        run(world)
    assert PAID_PLAN_RULE not in one_line(error)


def test_a_303_for_a_pattern_that_exists_is_accepted(world: World):
    run(world)
    world.environments["staging"].patterns.clear()  # GitHub listed none, yet answers that it exists
    world.fail.append(("POST", f"/repos/{REPO}/environments/staging/deployment-branch-policies", 303, ""))
    assert lines(run(world)) == ["deployment pattern of staging: +rc-* (tag)"]


def test_a_pattern_on_an_environment_without_custom_policies_is_githubs_404_with_the_fix(world: World):
    world.fail.append(("POST", f"/repos/{REPO}/environments/development/deployment-branch-policies", 404,
                       "Not Found"))
    with pytest.raises(GitHubError) as error:
        run(world)
    assert "(404: Not Found)" in one_line(error) and ADMIN_FIX in one_line(error)


# 4. the description rejects what GitHub would (so the stand-in's checks can fail)

@pytest.mark.parametrize("body, error", [
    ({"reviewers": [{"type": "Person", "id": 1}]}, "'Person' is not one of"),
    ({"wait_timer": "5"}, "'5' is not of type 'integer'"),
    ({"reviewer_ids": [1]}, "Additional properties are not allowed"),
])
def test_a_malformed_environment_body_is_rejected_by_the_description(world: World, body: dict, error: str):
    from openapi_core.validation.request.exceptions import InvalidRequestBody

    with pytest.raises(InvalidRequestBody) as rejected:
        client(world).call("PUT", "{repo}/environments/staging", body)
    assert error in str(rejected.value.__cause__.schema_errors)


# 5. the report and the faces

def test_a_private_repository_gets_the_paid_plan_warning_in_the_report(world: World, tmp_path: Path):
    world.private = True
    (tmp_path / "pipeline.yaml").write_text((COAGENT / "pipeline.yaml").read_text())
    report = asyncio.run(github_setup.configure_github(_Files(tmp_path), TOKEN, REPO, transport=world))
    (finding,) = report.findings
    assert finding.severity == "warning" and finding.message == (
        "if this repository's plan is not Enterprise, the required reviewers or wait timers of staging, production, "
        f"production-approval are not available: {REPO} is private; on a private repository, environments and their "
        "branch and tag policies need GitHub Pro, Team or Enterprise, and required reviewers and wait timers need "
        "GitHub Enterprise (GitHub Free, Pro and Team offer them on public repositories only)")
    assert report.passed and len(report.tables[0].rows) == 8 and TOKEN not in dumps(report)
    schema = json.loads((Path(__file__).parents[2] / "ci" / "schemas" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(dumps(report)))  # the one report shape


def test_a_dry_run_report_says_what_would_change(world: World, tmp_path: Path):
    (tmp_path / "pipeline.yaml").write_text((COAGENT / "pipeline.yaml").read_text())
    report = asyncio.run(github_setup.configure_github(_Files(tmp_path), TOKEN, REPO, dry_run=True, transport=world))
    assert report.steps[0].reason == "would change 8 setting(s) of 4 environment(s) of octo-org/coagent"
    assert report.tables[0].title == "changes (dry run: none made)" and world.writes == []


class _Files:
    """The runner's view of an app directory: only `read_source_file` (all configure-github reads)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def read_source_file(self, path: str) -> str | None:
        file = self.root / path
        return file.read_text() if file.is_file() else None


def test_bayon_configure_github_changes_then_says_nothing_to_change(world: World, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture,
                                                                   monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "pipeline.yaml").write_text((COAGENT / "pipeline.yaml").read_text())
    monkeypatch.setenv("GH_ADMIN_TOKEN", TOKEN)
    with served(world) as url:
        argv = ["configure-github", "--source", str(tmp_path), "--github-token", "env://GH_ADMIN_TOKEN",
                "--github-repository", REPO, "--github-api-url", url]
        first = main(argv), capsys.readouterr()
        second = main(argv), capsys.readouterr()
        dry = main([*argv, "--dry-run", "--format", "json"]), capsys.readouterr()
    assert world.errors == []
    assert first[0] == 0 and "created environment production" in first[1].out and "+v* (tag)" in first[1].out
    assert second[0] == 0 and "nothing to change: 4 environment(s) of octo-org/coagent" in second[1].out
    assert dry[0] == 0 and json.loads(dry[1].out)["passed"] and "tables" not in json.loads(dry[1].out)
    assert all(TOKEN not in text for result in (first, second, dry) for text in (result[1].out, result[1].err))
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in world.requests)


def test_bayon_without_a_token_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture):
    (tmp_path / "pipeline.yaml").write_text((COAGENT / "pipeline.yaml").read_text())
    assert main(["configure-github", "--source", str(tmp_path), REPO]) == 2
    assert capsys.readouterr().err.startswith("bayon: --github-token: give a token with Administration: write")


def test_the_dagger_face_reads_the_secret_for_the_client_only(world: World, monkeypatch: pytest.MonkeyPatch):
    async def read(self, path):
        return (COAGENT / path).read_text() if path == "pipeline.yaml" else None


    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(dagger.Secret, "plaintext", chain.planted_plaintext)
    with served(world) as url:
        text = asyncio.run(Ci().configure_github(source=dag.directory(), github_token=dag.set_secret("gh", TOKEN),
                                                 github_repository=REPO, github_api_url=url, format="json"))
    assert world.errors == [] and TOKEN not in text
    assert json.loads(text)["steps"][0]["reason"] == "changed 8 setting(s) of 4 environment(s) of octo-org/coagent"
