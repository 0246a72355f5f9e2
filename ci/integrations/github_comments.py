"""One pull-request comment per purpose, updated in place: the comment is found again by the marker line it starts
with (`<!-- bayon:ci-summary -->`), so every run of `ci` edits the same comment instead of adding one."""

from __future__ import annotations

from dataclasses import dataclass, field

from ci.core.errors import UsageError
from ci.integrations.github import REPOSITORY
from ci.integrations.github_rest import Client

PULL_REQUESTS_WRITE = "pull-requests: write"
MAX_BODY = 65536
"""GitHub's limit on a comment body, in characters."""
FORK_NOTE = "no pull-request comment: a pull request from a fork gets a read-only token"


def marker(name: str) -> str:
    """The HTML comment that marks bayon's text of one purpose (invisible in the rendered Markdown)."""
    return f"<!-- bayon:{name} -->"


@dataclass(frozen=True)
class PullRequest:
    """Where `ci` comments: the repository, the pull request's number, the token (none needed from a fork, which
    gets no comment), the API URL (empty: GitHub's)."""

    repository: str
    number: int
    token: str = field(repr=False)
    from_fork: bool = False
    api_url: str = ""

    def check(self) -> PullRequest:
        """The target, or UsageError for one that cannot work (checked before `ci` runs anything)."""
        if not REPOSITORY.match(self.repository):
            raise UsageError(f"--github-repository {self.repository!r}: give owner/name (in Actions: "
                             "${{ github.repository }})")
        if self.number < 1:
            raise UsageError(f"--pull-request {self.number}: give the pull request's number (in Actions: "
                             "${{ github.event.pull_request.number }})")
        if not self.from_fork and not self.token:
            raise UsageError("--pull-request: give --github-token too (in Actions: env://GITHUB_TOKEN with "
                             "`permissions: pull-requests: write`)")
        return self


def _fitted(text: str) -> str:
    if len(text) <= MAX_BODY:
        return text
    note = "\n\n… cut to GitHub's comment limit; the whole report is in the job summary\n"
    return text[:MAX_BODY - len(note)] + note


def _ours(comment: dict, name: str) -> bool:
    """Whether the comment is bayon's of `name`: it starts with the marker line (as upsert writes it) and a bot
    wrote it (a person quoting the marker keeps their comment)."""
    lines = (comment.get("body") or "").splitlines()
    return bool(lines) and lines[0].strip() == marker(name) and (comment.get("user") or {}).get("type") == "Bot"


def upsert(client: Client, number: int, name: str, body: str) -> tuple[int, bool]:
    """The comment of `name` on issue or pull request `number` set to `body` (marked); its id, and whether it was
    created. An unchanged body writes nothing. Only a bot's comment is reused (the workflow's GITHUB_TOKEN writes
    as github-actions[bot], a GitHub App as its bot): with a person's token (a PAT) each run adds a new comment,
    since a person's comment that starts with the marker may be one they wrote."""
    text = _fitted(f"{marker(name)}\n{body}")
    path = f"{{repo}}/issues/{number}/comments"
    for comment in client.pages(path, permission=PULL_REQUESTS_WRITE):
        if _ours(comment, name):
            if comment.get("body") != text:
                client.call("PATCH", f"{{repo}}/issues/comments/{comment['id']}", {"body": text}, ok=(200,),
                            permission=PULL_REQUESTS_WRITE)
            return int(comment["id"]), False
    created = client.call("POST", path, {"body": text}, ok=(201,), permission=PULL_REQUESTS_WRITE)
    return int(created.data["id"]), True
