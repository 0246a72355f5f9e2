"""What GitHub says about a release, read-only, for the deployment plan: the check runs of its commit (the workflow
jobs that ran on it) and the notes of its tag's GitHub release (a draft one too, which the by-tag lookup hides)."""

from __future__ import annotations

from dataclasses import dataclass

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
    """Every check run of the commit (GET /repos/{owner}/{repo}/commits/{ref}/check-runs, every page), the latest
    of each name (a re-run replaces its earlier attempt)."""
    latest: dict[str, dict] = {}
    for run in client.pages(f"{{repo}}/commits/{sha}/check-runs", "check_runs", permission=CHECKS_PERMISSION,
                            query={"filter": "latest"}):
        latest.setdefault(run["name"], run)
    return [CheckRun(r["name"], r["status"], r.get("conclusion")) for r in latest.values()]


def release_notes(client: Client, tag: str) -> str | None:
    """The body of the tag's GitHub release ("" when it has none; a draft's too); None when there is no release of
    the tag."""
    release = github_releases.find_release(client, tag, CONTENTS_PERMISSION)
    return None if release is None else release.get("body") or ""
