"""The GitHub release of a tag: made a draft prerelease when missing, published once staging is green (still a
prerelease, never "latest"), and sections of its notes written by the pipeline (the deployment plan) replaced in
place between marker lines, the rest of the notes left as people wrote them."""

from __future__ import annotations

import urllib.parse
from typing import Any

from ci.integrations.github_comments import marker
from ci.integrations.github_rest import Client

CONTENTS_READ = "contents: read"
CONTENTS_WRITE = "contents: write"
MAX_BODY = 125000
"""GitHub's limit on a release body, in characters."""
CUT = "\n… cut to GitHub's limit on release notes"


def _end(name: str) -> str:
    return f"<!-- /bayon:{name} -->"


def find_release(client: Client, tag: str, permission: str = CONTENTS_READ) -> dict[str, Any] | None:
    """The release of `tag`: the published one, else a draft of it (the tags endpoint never shows drafts, the
    listing does), else None. `permission`: what the caller's token needs, named when GitHub refuses."""
    answer = client.call("GET", "{repo}/releases/tags/" + urllib.parse.quote(tag, safe=""), ok=(200, 404),
                         permission=permission)
    if answer.status == 200:
        return answer.data
    return next((release for release in client.pages("{repo}/releases", permission=permission)
                 if release.get("tag_name") == tag and release.get("draft")), None)


def ensure_release(client: Client, tag: str, name: str, body: str) -> dict[str, Any]:
    """The release of `tag` (find_release), else a new draft prerelease: only a release candidate's release is made
    by the pipeline (a final tag's is the team's to write)."""
    found = find_release(client, tag, CONTENTS_WRITE)
    if found is not None:
        return found
    new = {"tag_name": tag, "name": name, "body": body[:MAX_BODY], "draft": True, "prerelease": True}
    return client.call("POST", "{repo}/releases", new, ok=(201,), permission=CONTENTS_WRITE).data


def publish(client: Client, release: dict[str, Any]) -> dict[str, Any]:
    """The release published (a prerelease still, not made latest); one already published is left alone."""
    if not release.get("draft"):
        return release
    return client.call("PATCH", f"{{repo}}/releases/{release['id']}",
                       {"draft": False, "prerelease": True, "make_latest": "false"}, ok=(200,),
                       permission=CONTENTS_WRITE).data


def with_section(body: str, name: str, markdown: str) -> str:
    """`body` with the section `name` (between its marker lines) replaced by `markdown`, or appended to it; the
    section is cut so the body stays within GitHub's limit. A start marker without its end (someone deleted the
    end line) is dropped before appending, the text after it kept: a second start marker would make the next run
    replace from the first one, deleting what people wrote in between."""
    start, end = marker(name), _end(name)
    head, found, rest = body.partition(start)
    if found and end in rest:
        tail = rest.partition(end)[2]
    else:
        kept = body.replace(f"{start}\n", "").replace(start, "")
        head, tail = (f"{kept.rstrip()}\n\n" if kept.strip() else ""), ""
    room = MAX_BODY - len(head) - len(tail) - len(start) - len(end) - 2
    text = markdown.strip("\n")
    if len(text) > room:
        text = text[:max(0, room - len(CUT))] + CUT
    return f"{head}{start}\n{text}\n{end}{tail}"


def set_section(client: Client, release: dict[str, Any], name: str, markdown: str) -> dict[str, Any]:
    """The release with its section `name` set to `markdown`; an unchanged body writes nothing."""
    body = with_section(release.get("body") or "", name, markdown)
    if body == (release.get("body") or ""):
        return release
    return client.call("PATCH", f"{{repo}}/releases/{release['id']}", {"body": body}, ok=(200,),
                       permission=CONTENTS_WRITE).data
