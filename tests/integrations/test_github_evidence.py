"""What the deployment plan reads from GitHub: the check runs of a commit (every page, the latest of each name) and a
tag's release notes (a draft one found in the listing), each request checked against GitHub's OpenAPI description;
a refusal is one line naming the permission."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from npm_files import npm_file

from ci.integrations import github_evidence
from ci.integrations.github_rest import API_URL, Client, GitHubError, Request, Response

TOKEN = "ghs_" + "evidence" * 4
SHA = "4b6472266afd7b471e86085a6659e8c7f2b119da"
OPENAPI = ("@octokit/openapi@23.0.2", "generated/api.github.com.json")


class GitHub:
    """A transport answering from `routes` (path -> (status, body)), recording each request."""

    def __init__(self, routes: dict[str, tuple[int, object]]) -> None:
        self.routes, self.requests = routes, []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        url = urllib.parse.urlsplit(request.url)
        query = dict(urllib.parse.parse_qsl(url.query))
        status, body = self.routes.get(f"{url.path}?page={query.get('page', '')}") or self.routes[url.path]
        return Response(status, json.dumps(body).encode())


def run(name: str, conclusion: str | None, status: str = "completed") -> dict:
    return {"id": hash(name) % 10_000, "name": name, "status": status, "conclusion": conclusion, "head_sha": SHA}


@pytest.fixture(scope="module")
def github_openapi(bayon_cache: Path):
    """GitHub's OpenAPI description, loaded once for this module (the lead unifies it with the session fixture)."""
    from openapi_core import Config, OpenAPI

    spec = json.loads(npm_file(bayon_cache, *OPENAPI).read_text())
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def validate(github_openapi, request: Request) -> None:
    from openapi_core.testing import MockRequest

    url = urllib.parse.urlsplit(request.url)
    github_openapi.validate_request(MockRequest(API_URL, request.method.lower(), url.path,
                                                args=dict(urllib.parse.parse_qsl(url.query)),
                                                headers=dict(request.headers), data=request.body or None))


CHECKS_PATH = f"/repos/octo-org/coagent/commits/{SHA}/check-runs"


def test_the_check_runs_of_the_commit_are_read_page_by_page_latest_first():
    first_page = [run("checks (22)", "success")] + [run(f"other-{i}", "success") for i in range(99)]
    github = GitHub({f"{CHECKS_PATH}?page=1": (200, {"total_count": 102, "check_runs": first_page}),
                     f"{CHECKS_PATH}?page=2": (200, {"total_count": 102, "check_runs": [
                         run("security", "success"), run("security", "failure")]})})
    found = github_evidence.check_runs(Client("octo-org/coagent", TOKEN, github), SHA)
    assert len(found) == 101 and found[0] == github_evidence.CheckRun("checks (22)", "completed", "success")
    assert github_evidence.CheckRun("security", "completed", "success") in found  # the first (latest) of a name
    assert [urllib.parse.urlsplit(r.url).query for r in github.requests] == [
        "filter=latest&per_page=100&page=1", "filter=latest&per_page=100&page=2"]


def test_release_notes_by_tag_else_a_draft_of_the_tag_else_none():
    tag_path = "/repos/octo-org/coagent/releases/tags/rc-1.4.0"
    github = GitHub({tag_path: (200, {"tag_name": "rc-1.4.0", "body": "Adds owners."})})
    assert github_evidence.release_notes(Client("octo-org/coagent", TOKEN, github), "rc-1.4.0") == "Adds owners."
    drafts = GitHub({tag_path: (404, {"message": "Not Found"}),
                     "/repos/octo-org/coagent/releases": (200, [{"tag_name": "rc-1.4.0", "body": None,
                                                                  "draft": True}])})
    assert github_evidence.release_notes(Client("octo-org/coagent", TOKEN, drafts), "rc-1.4.0") == ""
    none = GitHub({tag_path: (404, {"message": "Not Found"}), "/repos/octo-org/coagent/releases": (200, [])})
    assert github_evidence.release_notes(Client("octo-org/coagent", TOKEN, none), "rc-1.4.0") is None


def test_a_refused_listing_is_one_line_naming_the_permission_and_never_the_token():
    github = GitHub({CHECKS_PATH: (403, {"message": "Resource not accessible by integration"})})
    with pytest.raises(GitHubError) as refused:
        github_evidence.check_runs(Client("octo-org/coagent", TOKEN, github), SHA)
    assert "checks: read" in str(refused.value) and "\n" not in str(refused.value)
    assert TOKEN not in str(refused.value)


@pytest.mark.tools
def test_every_request_is_valid_against_githubs_openapi_description(github_openapi):
    from openapi_core.validation.request.exceptions import RequestValidationError

    github = GitHub({CHECKS_PATH: (200, {"total_count": 0, "check_runs": []}),
                     "/repos/octo-org/coagent/releases/tags/rc-1.4.0": (404, {"message": "Not Found"}),
                     "/repos/octo-org/coagent/releases": (200, [])})
    client = Client("octo-org/coagent", TOKEN, github)
    github_evidence.check_runs(client, SHA)
    github_evidence.release_notes(client, "rc-1.4.0")
    assert len(github.requests) == 3
    for request in github.requests:
        validate(github_openapi, request)
    wrong = Request("GET", f"{API_URL}{CHECKS_PATH}?filter=newest", github.requests[0].headers, b"")
    with pytest.raises(RequestValidationError):
        validate(github_openapi, wrong)  # the description does refuse what GitHub refuses
