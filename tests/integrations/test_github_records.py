"""GitHub records of deploys and pull requests: deployments and their statuses, the rc release (draft prerelease,
published, a section of its notes kept in place), the one pull-request comment `ci` keeps up to date. Every
request checked against GitHub's OpenAPI description by a stand-in repository whose answers are checked too."""

from __future__ import annotations

import asyncio

import pytest

from ci.core.errors import UsageError
from ci.core.report import Report, StepResult, Table
from ci.integrations import github_comments, github_deployments, github_releases
from ci.integrations.github_comments import PullRequest, marker
from ci.integrations.github_rest import Client, GitHubError
from ci.output.render import dumps
from ci.pipeline import runner
from tests.integrations.github_world import World

TOKEN = "ghs_" + "PLANTEDrec0rd" * 3
REPO = "octo-org/coagent"
SHA = "4b6472266afd7b471e86085a6659e8c7f2b119da"
RUN = "7001"


@pytest.fixture
def world(github_spec) -> World:
    return World(github_spec, REPO)


def client(world: World) -> Client:
    return Client(REPO, TOKEN, world)


# 1. deployments

def test_the_deployment_the_actions_job_made_for_this_run_is_reused(world: World):
    other = {"id": 11, "sha": SHA, "ref": "rc-1.4.0", "environment": "staging", "payload": {}}
    mine = {"id": 12, "sha": SHA, "ref": "rc-1.4.0", "environment": "staging", "payload": {}}
    world.deployments += [other, mine]
    world.statuses[11] = [{"id": 1, "state": "success", "log_url": "https://github.com/o/r/actions/runs/6999/job/1"}]
    world.statuses[12] = [{"id": 2, "state": "in_progress", "log_url": f"https://github.com/o/r/actions/runs/{RUN}/job/3"}]
    assert github_deployments.find_or_create(client(world), "staging", SHA, "rc-1.4.0", RUN, "deploy") == 12
    assert world.writes == []
    (listing,) = [r for r in world.requests if r.url.split("?")[0].endswith("/deployments")]
    assert "environment=staging" in listing.url and f"sha={SHA}" in listing.url


def test_a_run_id_matches_whole_run_12_is_not_run_123(world: World):
    run_12 = {"id": 21, "sha": SHA, "ref": "rc-1.4.0", "environment": "staging", "payload": {}}
    run_123 = {"id": 22, "sha": SHA, "ref": "rc-1.4.0", "environment": "staging", "payload": {}}
    world.deployments += [run_12, run_123]  # listed newest first: run 123's comes first
    world.statuses[21] = [{"id": 1, "state": "in_progress", "log_url": "https://github.com/o/r/actions/runs/12"}]
    world.statuses[22] = [{"id": 2, "state": "in_progress", "log_url": "https://github.com/o/r/actions/runs/123/job/4"}]
    assert github_deployments.find_or_create(client(world), "staging", SHA, "rc-1.4.0", "12", "deploy") == 21
    assert github_deployments.find_or_create(client(world), "staging", SHA, "rc-1.4.0", "123", "deploy") == 22
    world.statuses[21] = [{"id": 3, "state": "queued", "log_url": "https://github.com/o/r/actions/runs/12?pr=1"}]
    assert github_deployments.find_or_create(client(world), "staging", SHA, "rc-1.4.0", "12", "deploy") == 21
    assert github_deployments.find_or_create(client(world), "staging", SHA, "rc-1.4.0", "1", "deploy") not in (21, 22)


def test_without_one_a_deployment_is_created_without_auto_merge_or_required_checks_and_found_again(world: World):
    world.refs["v1.4.0"] = SHA
    made = github_deployments.find_or_create(client(world), "production", SHA, "v1.4.0", RUN,
                                             "deploy of v1.4.0 " + "x" * 200, production=True)
    (body,) = world.bodies("POST", "/deployments")
    assert body["auto_merge"] is False and body["required_contexts"] == [] and body["production_environment"] is True
    assert (body["ref"], body["environment"], len(body["description"])) == ("v1.4.0", "production", 140)
    assert github_deployments.find_or_create(client(world), "production", SHA, "v1.4.0", RUN, "again") == made
    assert len(world.bodies("POST", "/deployments")) == 1  # its payload names the run


def test_statuses_carry_the_state_url_and_log(world: World):
    made = github_deployments.find_or_create(client(world), "staging", SHA, "", "", "deploy")
    github_deployments.status(client(world), made, "in_progress", "deploying")
    status = github_deployments.status(client(world), made, "success", "deployed " + SHA[:12],
                                       "https://staging.example.com", f"https://github.com/{REPO}/actions/runs/{RUN}")
    assert status["state"] == "success" and [s["state"] for s in world.statuses[made]] == ["in_progress", "success"]
    assert world.bodies("POST", "/statuses")[-1]["environment_url"] == "https://staging.example.com"
    with pytest.raises(ValueError, match="deployment state 'done'"):
        github_deployments.status(client(world), made, "done", "x")


def test_a_refused_deployment_is_one_line_naming_the_permission(world: World):
    world.fail.append(("POST", f"/repos/{REPO}/deployments", 422, "Conflict: Commit status checks failed"))
    with pytest.raises(GitHubError) as error:
        github_deployments.find_or_create(client(world), "staging", SHA, "", RUN, "deploy")
    assert "(422: Conflict: Commit status checks failed)" in str(error.value) and TOKEN not in str(error.value)


# 2. releases

def test_a_missing_release_is_made_a_draft_prerelease_once_then_published_not_latest(world: World):
    draft = github_releases.ensure_release(client(world), "rc-1.4.0", "rc-1.4.0", "Release candidate")
    assert draft["draft"] and draft["prerelease"]
    again = github_releases.ensure_release(client(world), "rc-1.4.0", "rc-1.4.0", "Release candidate")
    assert again["id"] == draft["id"] and len(world.releases) == 1  # a draft is found though the tag route hides it
    published = github_releases.publish(client(world), again)
    assert not published["draft"] and published["prerelease"]
    assert world.bodies("PATCH", f"/releases/{draft['id']}") == [{"draft": False, "prerelease": True,
                                                                  "make_latest": "false"}]
    writes = len(world.writes)
    assert github_releases.publish(client(world), published) == published and len(world.writes) == writes
    assert github_releases.ensure_release(client(world), "rc-1.4.0", "x", "")["id"] == draft["id"]


def test_find_release_is_the_published_one_else_a_draft_else_none_and_reads_only(world: World):
    assert github_releases.find_release(client(world), "rc-1.4.0") is None
    world.releases += [{"id": 31, "tag_name": "rc-1.4.0", "name": "x", "body": "draft notes", "draft": True,
                        "prerelease": True}]
    assert github_releases.find_release(client(world), "rc-1.4.0")["id"] == 31  # the tags route hides drafts
    world.releases += [{"id": 32, "tag_name": "v1.4.0", "name": "x", "body": "b", "draft": False, "prerelease": False}]
    requests = len(world.requests)
    assert github_releases.find_release(client(world), "v1.4.0")["id"] == 32 and len(world.requests) == requests + 1
    assert world.writes == []


def test_ensure_release_and_the_plans_release_notes_share_find_release(world: World, monkeypatch: pytest.MonkeyPatch):
    from ci.integrations import github_evidence

    asked: list[tuple[str, str]] = []

    def found(client_, tag, permission=github_releases.CONTENTS_READ):
        asked.append((tag, permission))
        return {"id": 41, "tag_name": tag, "body": None, "draft": True}

    monkeypatch.setattr(github_releases, "find_release", found)
    assert github_releases.ensure_release(client(world), "rc-1.4.0", "rc-1.4.0", "")["id"] == 41
    assert github_evidence.release_notes(client(world), "rc-1.4.0") == ""
    assert asked == [("rc-1.4.0", "contents: write"), ("rc-1.4.0", "contents: read")] and world.requests == []


def test_a_section_is_appended_then_replaced_in_place_the_notes_kept(world: World):
    release = github_releases.ensure_release(client(world), "v1.4.0", "v1.4.0", "Written by people.")
    release = github_releases.set_section(client(world), release, "deployment-plan", "## Plan\n- [x] staging\n")
    assert release["body"] == ("Written by people.\n\n<!-- bayon:deployment-plan -->\n## Plan\n- [x] staging\n"
                               "<!-- /bayon:deployment-plan -->")
    release = github_releases.set_section(client(world), {**release, "body": release["body"] + "\n\nPS"},
                                          "deployment-plan", "## Plan v2")
    assert release["body"] == ("Written by people.\n\n<!-- bayon:deployment-plan -->\n## Plan v2\n"
                               "<!-- /bayon:deployment-plan -->\n\nPS")
    writes = len(world.writes)
    github_releases.set_section(client(world), release, "deployment-plan", "## Plan v2")
    assert len(world.writes) == writes  # unchanged: nothing sent


def test_a_start_marker_without_its_end_is_dropped_so_the_next_run_deletes_nothing_people_wrote():
    start = marker("deployment-plan")
    edited = f"Notes.\n\n{start}\n## Plan v1 (its end line deleted by hand)\n\nPS from a person"
    body = github_releases.with_section(edited, "deployment-plan", "## Plan v2")
    assert body == (f"Notes.\n\n## Plan v1 (its end line deleted by hand)\n\nPS from a person\n\n{start}\n## Plan v2\n"
                    "<!-- /bayon:deployment-plan -->")
    again = github_releases.with_section(body, "deployment-plan", "## Plan v3")
    assert again.count(start) == 1 and again.startswith("Notes.\n\n## Plan v1") and "PS from a person" in again
    assert again.endswith(f"{start}\n## Plan v3\n<!-- /bayon:deployment-plan -->")
    assert github_releases.with_section(start, "deployment-plan", "x") == f"{start}\nx\n<!-- /bayon:deployment-plan -->"


def test_a_section_is_cut_to_githubs_limit():
    body = github_releases.with_section("notes", "plan", "y" * 200000)
    assert len(body) <= github_releases.MAX_BODY and body.endswith("cut to GitHub's limit on release notes\n"
                                                                   "<!-- /bayon:plan -->")


# 3. the pull-request comment

def test_the_comment_is_created_once_then_updated_in_place(world: World):
    world.comments[7] = [{"id": 5, "body": "a person's comment"}]
    assert github_comments.upsert(client(world), 7, "ci-summary", "first") == (1000, True)
    assert github_comments.upsert(client(world), 7, "ci-summary", "second") == (1000, False)
    assert [c["body"] for c in world.comments[7]] == ["a person's comment", f"{marker('ci-summary')}\nsecond"]
    writes = len(world.writes)
    github_comments.upsert(client(world), 7, "ci-summary", "second")
    assert len(world.writes) == writes


PERSON = ("octo-dev", 12, "User")


def test_a_persons_comment_quoting_the_marker_is_never_overwritten(world: World):
    quoted = f"Why does {marker('ci-summary')} show up here?"
    starts = f"{marker('ci-summary')}\nI copied bayon's comment to show a colleague"
    world.comments[7] = [{"id": 5, "body": quoted, "user": PERSON}, {"id": 6, "body": starts, "user": PERSON}]
    assert github_comments.upsert(client(world), 7, "ci-summary", "first") == (1000, True)
    assert [c["body"] for c in world.comments[7]][:2] == [quoted, starts]  # the person's two comments unchanged
    assert github_comments.upsert(client(world), 7, "ci-summary", "second") == (1000, False)
    assert world.writes[-1] == ("PATCH", f"/repos/{REPO}/issues/comments/1000")


def test_only_a_bots_comment_that_starts_with_the_marker_is_reused(world: World):
    world.comments[7] = [{"id": 5, "body": f"see {marker('ci-summary')}"},  # a bot's, marker not first
                         {"id": 6, "body": f"{marker('ci-summary')}\r\nolder run"}]
    assert github_comments.upsert(client(world), 7, "ci-summary", "now") == (6, False)
    world.comments[8] = [{"id": 9, "body": f"{marker('ci-summary')}\nby a PAT", "user": PERSON}]
    assert github_comments.upsert(client(world), 8, "ci-summary", "now") == (1000, True)  # a person's: not reused


def test_a_comment_over_githubs_limit_is_cut(world: World):
    github_comments.upsert(client(world), 7, "ci-summary", "z" * 70000)
    assert len(world.comments[7][0]["body"]) == github_comments.MAX_BODY


def report() -> Report:
    steps = (StepResult("quality/lint", "eslint", "passed"), StepResult("tests/unit", "jest", "passed"))
    table = Table("bundle sizes", ("page", "kB"), (("/", 88.5),), "build/next")
    return Report("ci", steps, (), tables=(table,), stages={"quality": ("quality/lint",), "tests": ("tests/unit",)})


def test_ci_puts_its_markdown_report_in_the_comment_as_one_more_step(world: World):
    done = asyncio.run(runner.pr_comment(report(), PullRequest(REPO, 7, TOKEN), world))
    step = done.steps[-1]
    assert (step.id, step.status, step.reason) == ("github/pr-comment", "passed",
                                                   "created comment 1000 on pull request #7")
    body = world.comments[7][0]["body"]
    assert body.startswith(marker("ci-summary")) and "`quality/lint`" in body and "bundle sizes" in body
    again = asyncio.run(runner.pr_comment(report(), PullRequest(REPO, 7, TOKEN), world))
    assert again.steps[-1].reason == "updated comment 1000 on pull request #7" and len(world.comments[7]) == 1


def test_a_refused_comment_is_a_warning_never_a_failed_ci(world: World):
    world.fail.append(("POST", f"/repos/{REPO}/issues/7/comments", 403, "Resource not accessible by integration"))
    done = asyncio.run(runner.pr_comment(report(), PullRequest(REPO, 7, TOKEN), world))
    assert done.passed and done.steps[-1].status == "unavailable"
    (finding,) = done.findings
    assert finding.severity == "warning" and "(403: Resource not accessible by integration)" in finding.message
    assert "pull-requests: write" in finding.message and TOKEN not in dumps(done)


def test_a_fork_gets_no_comment_and_the_report_says_why(world: World):
    done = asyncio.run(runner.pr_comment(report(), PullRequest(REPO, 7, "", from_fork=True), world))
    assert world.requests == [] and done.passed
    assert done.steps[-1].reason == ("no pull-request comment: a pull request from a fork gets a read-only token")


@pytest.mark.parametrize("pull, expected", [
    (PullRequest(REPO, 7, ""), "--pull-request: give --github-token too"),
    (PullRequest(REPO, -1, TOKEN), "--pull-request -1: give the pull request's number"),
    (PullRequest("", 7, TOKEN), "--github-repository '': give owner/name"),
])
def test_a_comment_target_that_cannot_work_is_a_usage_error_before_anything_runs(pull: PullRequest, expected: str):
    with pytest.raises(UsageError, match=f"^{expected}"):
        pull.check()
    assert TOKEN not in repr(pull)


class _Files:
    """The runner's view of an app: its pipeline.yaml and package.json only (all `load` reads here)."""

    async def read_source_file(self, path: str) -> str | None:
        return "{}" if path == "package.json" else None


def test_the_ci_gate_comments_after_its_report(world: World, monkeypatch: pytest.MonkeyPatch):
    async def every_stage(*args, **kwargs):
        return report()

    sent = runner.pr_comment

    async def to_the_world(report_, pull):
        return await sent(report_, pull, world)

    monkeypatch.setattr(runner, "_ci", every_stage)
    monkeypatch.setattr(runner, "pr_comment", to_the_world)
    done = asyncio.run(runner.gate("ci", _Files(), comment=PullRequest(REPO, 7, TOKEN)))
    assert done.steps[-1].id == "github/pr-comment" and world.comments[7][0]["body"].startswith(marker("ci-summary"))


def test_bayon_ci_checks_the_comment_target_before_running_anything(tmp_path, capsys: pytest.CaptureFixture):
    from ci.cli.app import main

    code = main(["ci", "--source", str(tmp_path), "--github-repository", REPO, "--pull-request", "7"])
    assert code == 2 and capsys.readouterr().err.startswith("bayon: --pull-request: give --github-token too")


def test_the_dagger_ci_checks_the_comment_target_before_running_anything():
    from dagger import dag

    from ci.main import Ci

    with pytest.raises(UsageError, match="^--pull-request: give --github-token too"):
        asyncio.run(Ci().ci(source=dag.directory(), repo=dag.directory(), github_repository=REPO, pull_request=7))
