"""What the deployment plan reads from GitHub: the check runs of a commit (every page, one of each name: the latest,
whatever order the API gives) and a tag's release notes (a draft one found in the listing), each request and answer
checked against GitHub's OpenAPI description by the stand-in repository; a refusal is one line naming the
permission."""

from __future__ import annotations

import urllib.parse

import pytest

from ci.integrations import github_evidence
from ci.integrations.github_evidence import CheckRun
from ci.integrations.github_rest import API_URL, Client, GitHubError, Request
from tests.integrations.github_world import World

TOKEN = "ghs_" + "evidence" * 4
REPO = "octo-org/coagent"
SHA = "4b6472266afd7b471e86085a6659e8c7f2b119da"
CHECKS_PATH = f"/repos/{REPO}/commits/{SHA}/check-runs"


@pytest.fixture
def world(github_spec) -> World:
    return World(github_spec, REPO)


def client(world: World) -> Client:
    return Client(REPO, TOKEN, world)


def run(run_id: int, name: str, conclusion: str | None, completed_at: str | None = "2026-12-01T10:00:00Z",
        suite: int = 1) -> dict:
    status = "completed" if completed_at else "in_progress"
    return {"id": run_id, "name": name, "status": status, "conclusion": conclusion, "completed_at": completed_at,
            "started_at": "2026-12-01T09:00:00Z", "check_suite": {"id": suite}}


def test_the_check_runs_of_the_commit_are_read_page_by_page(world: World):
    world.check_runs[SHA] = [run(1, "checks (22)", "success")] + [run(10 + i, f"other-{i}", "success")
                                                                  for i in range(100)]
    found = github_evidence.check_runs(client(world), SHA)
    assert len(found) == 101 and found[0] == CheckRun("checks (22)", "completed", "success")
    assert [urllib.parse.urlsplit(r.url).query for r in world.requests] == [
        "filter=latest&per_page=100&page=1", "filter=latest&per_page=100&page=2"]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_of_two_runs_of_a_name_the_later_completed_one_counts_whatever_the_order(world: World, order):
    """ci.yml's `ci` job and deploy-staging's `ci` job share a name: each workflow's suite has one."""
    runs = [run(500, "ci", "success", "2026-12-01T10:05:00Z", suite=1),
            run(400, "ci", "failure", "2026-12-01T11:30:00+00:00", suite=2)]
    world.check_runs[SHA] = [runs[i] for i in order]
    assert github_evidence.check_runs(client(world), SHA) == [CheckRun("ci", "completed", "failure")]


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0)])
def test_the_same_completion_goes_to_the_highest_id_and_an_unfinished_run_is_the_latest(world: World, order):
    same = [run(7, "security", "failure"), run(9, "security", "success")]
    world.check_runs[SHA] = [*same, run(3, "checks", "success")]
    world.check_runs[SHA] = [world.check_runs[SHA][i] for i in order]
    assert sorted(github_evidence.check_runs(client(world), SHA), key=lambda r: r.name) == [
        CheckRun("checks", "completed", "success"), CheckRun("security", "completed", "success")]
    # an unfinished run (its conclusion null) through the selection alone: the stand-in cannot answer one, as
    # openapi-core checks the null against the conclusion's enum
    unfinished = run(8, "security", None, completed_at=None)
    for runs in ([run(9, "security", "success"), unfinished], [unfinished, run(9, "security", "success")]):
        assert github_evidence.latest_of_each(runs) == [CheckRun("security", "in_progress", None)]


def test_release_notes_by_tag_else_a_draft_of_the_tag_else_none(world: World):
    world.releases.append({"id": 31, "tag_name": "v1.4.0", "name": "v1.4.0", "body": "Adds owners.", "draft": False,
                           "prerelease": False})
    assert github_evidence.release_notes(client(world), "v1.4.0") == "Adds owners."
    world.releases.append({"id": 32, "tag_name": "rc-1.4.0", "name": "rc-1.4.0", "body": None, "draft": True,
                           "prerelease": True})
    assert github_evidence.release_notes(client(world), "rc-1.4.0") == ""  # the tags endpoint hides drafts
    assert github_evidence.release_notes(client(world), "rc-1.5.0") is None


def test_a_refused_listing_is_one_line_naming_the_permission_and_never_the_token(world: World):
    world.fail.append(("GET", CHECKS_PATH, 403, "Resource not accessible by integration"))
    with pytest.raises(GitHubError) as refused:
        github_evidence.check_runs(client(world), SHA)
    assert "checks: read" in str(refused.value) and "\n" not in str(refused.value)
    assert TOKEN not in str(refused.value)


def test_the_description_refuses_what_github_refuses(world: World):
    from openapi_core.validation.request.exceptions import RequestValidationError

    github_evidence.check_runs(client(world), SHA)
    wrong = Request("GET", f"{API_URL}{CHECKS_PATH}?filter=newest", world.requests[0].headers, b"")
    with pytest.raises(RequestValidationError):
        world(wrong)
