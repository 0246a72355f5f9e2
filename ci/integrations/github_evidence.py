"""What GitHub says about a release, read-only, for the deployment plan: the check runs of its commit (the workflow
jobs that ran on it) and the notes of its tag's GitHub release (a draft one too, which the by-tag lookup hides)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from ci.integrations import github_releases
from ci.integrations.github_rest import Client

CHECKS_PERMISSION = "checks: read"
CONTENTS_PERMISSION = "contents: read"


@dataclass(frozen=True)
class CheckRun:
    name: str
    status: str
    conclusion: str | None


def check_runs(client: Client, sha: str) -> list[CheckRun]:
    """Every check run of the commit (GET /repos/{owner}/{repo}/commits/{ref}/check-runs, every page), the latest of
    each name (`latest_of_each`)."""
    return latest_of_each(client.pages(f"{{repo}}/commits/{sha}/check-runs", "check_runs",
                                       permission=CHECKS_PERMISSION, query={"filter": "latest"}))


def latest_of_each(runs: Iterable[dict]) -> list[CheckRun]:
    """One check run of each name, the latest: by `completed_at`, then the highest id. The API's order is not
    documented, and two workflows may have a job of the same name (ci.yml's `ci` and deploy-staging's `ci`); a run
    not finished yet counts as the latest of its name (it completes after every finished one), so it is never passed
    over for an older green one."""
    latest: dict[str, dict] = {}
    for run in runs:
        kept = latest.get(run["name"])
        if kept is None or _recency(run) > _recency(kept):
            latest[run["name"]] = run
    return [CheckRun(r["name"], r["status"], r.get("conclusion")) for r in latest.values()]


def _recency(run: dict) -> tuple[bool, datetime, int]:
    """A check run's place among those of its name: the unfinished last, then by `completed_at`, then by id."""
    completed = run.get("completed_at")
    when = datetime.fromisoformat(completed) if completed else datetime.min.replace(tzinfo=timezone.utc)
    return completed is None, when, int(run["id"])


def release_notes(client: Client, tag: str) -> str | None:
    """The body of the tag's GitHub release ("" when it has none; a draft's too); None when there is no release of
    the tag."""
    release = github_releases.find_release(client, tag, CONTENTS_PERMISSION)
    return None if release is None else release.get("body") or ""
