"""What the delivery functions write to GitHub, given a token: the rc release published as ready after `accept`
passed, the deployment plan as a section of the tag's release notes, and a deployment with its statuses for each
deploy and rollback. Each write is a step of the function's report; none is attempted without a token."""

from __future__ import annotations

from dataclasses import replace

import anyio

from ci.core.errors import UsageError
from ci.core.report import Report, StepResult
from ci.delivery.routing import parse_tag
from ci.integrations import github_releases
from ci.integrations.github_rest import Client, GitHubError

RELEASE_ID = "github/release"
PLAN_SECTION = "deployment-plan"


def rc_tag(tag: str) -> str:
    """`tag` when it is a release candidate tag (rc-X.Y.Z[.N]); UsageError otherwise (exit 2)."""
    found = parse_tag(tag)
    if found is None or found.kind != "rc":
        raise UsageError(f"--tag {tag}: accept publishes a release candidate's GitHub release; give its rc-X.Y.Z[.N] "
                         "tag (in Actions: github.ref_name)")
    return tag


async def publish_ready(report: Report, client: Client | None, tag: str, left_out: tuple[str, ...] = ()) -> Report:
    """The report with the step publishing the tag's GitHub release as ready (a draft prerelease created first when
    missing), run only when everything else passed, its reason naming the parts `--skip` left out; without a tag,
    the report as it is."""
    if not tag:
        return report
    if client is None:
        step = StepResult(RELEASE_ID, "github", "skipped", reason=f"no --github-token: {tag}'s release not published")
    elif not report.passed:
        step = StepResult(RELEASE_ID, "github", "skipped", reason=f"{tag} not published: the acceptance failed")
    else:
        try:
            published = await anyio.to_thread.run_sync(_publish, client, tag)
        except GitHubError as exc:
            step = StepResult(RELEASE_ID, "github", "failed", reason=f"publishing {tag}'s release failed: {exc}")
        else:
            skipped = f" (left out by --skip: {', '.join(left_out)})" if left_out else ""
            step = StepResult(RELEASE_ID, "github", "passed",
                              reason=f"{tag}'s release published as ready (a prerelease){skipped}: {published}")
    stages = {**report.stages, "github": (RELEASE_ID,)}
    return replace(report, steps=(*report.steps, step), stages=stages)


def _publish(client: Client, tag: str) -> str:
    release = github_releases.ensure_release(client, tag, tag, "")
    return str(github_releases.publish(client, release).get("html_url") or tag)


def plan_notes(client: Client, tag: str, markdown: str) -> str:
    """The plan written as the `deployment-plan` section of the tag's release notes; what was done, one line. An rc
    tag's release is made a draft prerelease when missing (accept publishes it once staging is green); a final
    tag's release is the team's to write: the plan goes only into one that exists."""
    found = parse_tag(tag)
    if found is not None and found.kind == "rc":
        release = github_releases.ensure_release(client, tag, tag, "")
    else:
        release = github_releases.find_release(client, tag, github_releases.CONTENTS_WRITE)
        if release is None:
            return f"{tag} has no GitHub release yet: the plan is in the job summary only"
    github_releases.set_section(client, release, PLAN_SECTION, markdown)
    return f"the plan is in {tag}'s release notes: {release.get('html_url') or tag}"
