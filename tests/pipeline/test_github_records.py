"""What the delivery functions write to GitHub (`ci.pipeline.github_records`), against the stand-in repository
(every request and answer checked against GitHub's OpenAPI description): the plan in the tag's release notes (an rc's
release made a draft prerelease, a final tag's only when the team made it), written once; the rc published by
accept only when everything passed, a refusal a failed step of its own."""

from __future__ import annotations

import anyio

from ci.core.report import Report, StepResult
from ci.integrations.github_rest import Client
from ci.pipeline import github_records
from tests.integrations.github_world import World

REPO = "octo-org/coagent"
PLAN = "## Deployment plan: aaaaaaaaaaaa to staging\n\n- [x] Tests passed"


def client(world: World) -> Client:
    return Client(REPO, "ghs_plantedrecordstoken01", world)


def test_an_rc_plan_goes_into_a_draft_prerelease_once(github_spec):
    world = World(github_spec, REPO)
    said = github_records.plan_notes(client(world), "rc-1.4.0", PLAN)
    (made,) = world.bodies("POST", "/releases")
    assert (made["tag_name"], made["draft"], made["prerelease"]) == ("rc-1.4.0", True, True)
    assert PLAN in world.releases[0]["body"] and "<!-- bayon:deployment-plan -->" in world.releases[0]["body"]
    assert said.startswith("the plan is in rc-1.4.0's release notes")
    writes = len(world.writes)
    github_records.plan_notes(client(world), "rc-1.4.0", PLAN)
    assert len(world.writes) == writes  # the same plan again: nothing written


def test_a_final_tags_plan_goes_only_into_the_release_the_team_made(github_spec):
    world = World(github_spec, REPO)
    said = github_records.plan_notes(client(world), "v1.4.0", PLAN)
    assert world.writes == [] and said == "v1.4.0 has no GitHub release yet: the plan is in the job summary only"
    world.releases.append({"id": 77, "tag_name": "v1.4.0", "name": "v1.4.0", "body": "Written by people.",
                           "draft": False, "prerelease": False})
    github_records.plan_notes(client(world), "v1.4.0", PLAN)
    assert world.releases[0]["body"].startswith("Written by people.\n\n<!-- bayon:deployment-plan -->")


def _passed(passed: bool = True) -> Report:
    return Report("accept", (StepResult("tests/deployed/staging", "jest", "passed" if passed else "failed"),), ())


def test_the_rc_is_published_only_after_a_passing_acceptance(github_spec):
    world = World(github_spec, REPO)
    failed = anyio.run(github_records.publish_ready, _passed(False), client(world), "rc-1.4.0")
    assert failed.steps[-1].status == "skipped" and world.writes == []
    none = anyio.run(github_records.publish_ready, _passed(), None, "rc-1.4.0")
    assert none.steps[-1].reason == "no --github-token: rc-1.4.0's release not published"
    world.fail.append(("POST", f"/repos/{REPO}/releases", 422, "Validation Failed"))
    refused = anyio.run(github_records.publish_ready, _passed(), client(world), "rc-1.4.0")
    assert refused.steps[-1].status == "failed" and not refused.passed
    assert "publishing rc-1.4.0's release failed: GitHub refused POST" in refused.steps[-1].reason
