"""Code scanning upload: the request (checked against GitHub's OpenAPI description from @octokit/openapi, a bad one
rejected by it), GitHub's answers turned into one-line errors, the standard-library transport against a local server,
and the upload as one more step of the report."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ci.pipeline import runner
from ci.integrations import github as github_api
from ci.output import sarif
from ci.output.render import dumps
from ci.cli.app import main
from ci.core.errors import UsageError
from ci.integrations.github import GitHubError, Request, Response, Upload
from ci.core.report import Finding, Report, StepResult

TOKEN = "ghs_" + "t0ken" * 7
SHA = "4b6472266afd7b471e86085a6659e8c7f2b119da"
UPLOAD = Upload("octo-org/coagent", SHA, "refs/pull/7/merge", TOKEN, "examples/coagent")
RECEIPT = {"id": "47177e22-5596-11eb-80a1-c1e54ef945c6",
           "url": "https://api.github.com/repos/octo-org/coagent/code-scanning/sarifs/47177e22"}


def report() -> Report:
    findings = (
        Finding("quality/lint", "eslint", "no-unused-vars", "error", "lib/a.ts", 3, 7, "'x' is never used"),
        Finding("security/licenses", "license-checker", "license/unknown", "warning", None, None, None, "no license"),
    )
    steps = (StepResult("quality/lint", "eslint", "failed", "9.39.1"),
             StepResult("security/licenses", "license-checker", "passed"))
    return Report("security", steps, findings, stages={"security": ("quality/lint", "security/licenses")})


class GitHub:
    """A transport standing in for GitHub: records each request, answers with `status` and `body`."""

    def __init__(self, status: int = 202, body: object = RECEIPT) -> None:
        self.status, self.body, self.requests = status, body, []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        body = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        return Response(self.status, body)


def body_of(request: Request) -> dict:
    return json.loads(request.body)


# 1. the request

def test_the_request_posts_the_gzipped_base64_sarif_with_commit_and_ref():
    request = github_api.sarif_request(b'{"version": "2.1.0"}', UPLOAD)
    assert (request.method, request.url) == ("POST", "https://api.github.com/repos/octo-org/coagent/code-scanning/sarifs")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    body = body_of(request)
    assert (body["commit_sha"], body["ref"], body["tool_name"]) == (SHA, "refs/pull/7/merge", "bayon")
    assert gzip.decompress(base64.b64decode(body["sarif"])) == b'{"version": "2.1.0"}'
    assert request == github_api.sarif_request(b'{"version": "2.1.0"}', UPLOAD)  # no timestamp in the gzip header


def test_the_token_is_in_no_repr():
    request = github_api.sarif_request(b"{}", UPLOAD)
    assert TOKEN not in repr(request) and TOKEN not in repr(UPLOAD)


@pytest.mark.parametrize("upload, flag", [
    (Upload("coagent", SHA, "refs/heads/main", TOKEN), "--github-repository 'coagent': give owner/name"),
    (Upload("o/r", SHA[:7], "refs/heads/main", TOKEN), "--commit-sha '4b64722': give the full commit SHA"),
    (Upload("o/r", SHA, "main", TOKEN), "--ref 'main': give a full ref such as refs/heads/main"),
])
def test_a_value_github_would_refuse_is_a_usage_error_before_anything_runs(upload: Upload, flag: str):
    with pytest.raises(UsageError) as error:
        upload.check()
    assert str(error.value).startswith(flag) and "\n" not in str(error.value) and "${{ github." in str(error.value)


def test_a_sarif_over_githubs_limit_is_refused_before_sending(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(github_api, "MAX_SARIF_GZIP_BYTES", 10)
    github = GitHub()
    with pytest.raises(GitHubError, match="over code scanning's 10 byte limit"):
        github_api.upload_sarif(json.dumps(sarif.log(report())).encode(), UPLOAD, github)
    assert github.requests == []


# 2. GitHub's answers

def test_a_202_gives_the_receipt_id():
    assert github_api.upload_sarif(b"{}", UPLOAD, GitHub()) == RECEIPT["id"]


@pytest.mark.parametrize("status, body, expected", [
    (403, {"message": "Resource not accessible by integration"},
     "GitHub refused the SARIF upload (403: Resource not accessible by integration); give the job "
     "`permissions: security-events: write`, and enable code scanning for the repository"),
    (404, {"message": "Not Found"}, "(404: Not Found); check --github-repository, and that the token can read it"),
    (401, {"message": "Bad credentials"}, "(401: Bad credentials); the token was refused"),
    (413, {"message": "Payload Too Large"}, "(413: Payload Too Large); the SARIF is too large"),
    (422, {"message": "Invalid SARIF.\nline two"}, "(422: Invalid SARIF. line two); retry later"),
    (503, b"<html>unavailable</html>", "(503: no JSON message); retry later, or see the GitHub status page"),
    (202, {"url": "x"}, "GitHub accepted the upload but sent no receipt id"),
])
def test_any_other_answer_is_one_line_with_the_fix(status: int, body: object, expected: str):
    with pytest.raises(GitHubError) as error:
        github_api.upload_sarif(b"{}", UPLOAD, GitHub(status, body))
    message = str(error.value)
    assert expected in message and "\n" not in message and TOKEN not in message


class Server(BaseHTTPRequestHandler):
    """Answers every POST with 403 and GitHub's message, after reading the body."""

    seen: list[tuple[str, str, bytes]] = []

    def do_POST(self):  # noqa: N802 (the http.server name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Server.seen.append((self.path, self.headers["Authorization"], body))
        answer = json.dumps({"message": "Advanced Security must be enabled for this repository"}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_the_standard_library_transport_sends_the_request_and_returns_an_error_status_as_an_answer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        request = github_api.sarif_request(b"{}", UPLOAD, api_url=url)
        response = github_api.urllib_transport(request)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status == 403 and b"Advanced Security" in response.body
    assert Server.seen == [("/repos/octo-org/coagent/code-scanning/sarifs", f"Bearer {TOKEN}", request.body)]


def test_no_answer_at_all_is_one_line():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Server)
    port = server.server_address[1]
    server.server_close()  # nothing listens there any more
    request = github_api.sarif_request(b"{}", UPLOAD, api_url=f"http://127.0.0.1:{port}")
    with pytest.raises(GitHubError, match=r"^could not reach the GitHub API \(.*\); check the network"):
        github_api.urllib_transport(request)


# 3. the upload as a step of the report

def test_the_upload_is_one_more_step_and_sends_only_located_results():
    github = GitHub()
    uploaded = asyncio.run(runner.code_scanning(report(), UPLOAD, github))
    result = uploaded.steps[-1]
    assert (result.id, result.tool, result.status) == ("security/code-scanning", "github", "passed")
    assert result.reason == (f"uploaded 1 result(s) in 2 run(s) for {SHA[:12]} (refs/pull/7/merge), SARIF id "
                             f"{RECEIPT['id']}; 1 result(s) without a file left out")
    sent = json.loads(gzip.decompress(base64.b64decode(body_of(github.requests[0])["sarif"])))
    lint, licenses = sent["runs"]  # a tool's run stays, empty, so code scanning closes its earlier alerts
    assert licenses["results"] == []
    (found,) = lint["results"]
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "examples/coagent/lib/a.ts"


def test_a_refused_upload_crashes_its_step_and_fails_the_gate():
    uploaded = asyncio.run(runner.code_scanning(report(), UPLOAD, GitHub(403, {"message": "Resource not accessible"})))
    step = uploaded.steps[-1]
    assert step.status == "crashed" and step.reason.startswith("GitHub refused the SARIF upload (403: ")
    assert not uploaded.passed and uploaded.stages["security"][-1] == "security/code-scanning"
    assert TOKEN not in dumps(uploaded)


def test_bayon_checks_the_upload_target_before_running_anything(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GH_UPLOAD_TOKEN", TOKEN)
    code = main(["security", "--source", str(tmp_path), "--github-token", "env://GH_UPLOAD_TOKEN",
                 "--github-repository", "octo-org/coagent", "--commit-sha", SHA])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("bayon: --ref '': give a full ref") and TOKEN not in err


# 4. against GitHub's OpenAPI description

@pytest.fixture
def github_openapi(github_spec):
    """GitHub's OpenAPI description, loaded once per session (tests/conftest.py)."""
    return github_spec.openapi


def mock(request: Request, body: dict | None = None):
    from openapi_core.testing import MockRequest

    path = request.url.removeprefix(github_api.API_URL)
    data = json.dumps(body).encode() if body is not None else request.body
    return MockRequest(github_api.API_URL, request.method.lower(), path, data=data,
                       headers=dict(request.headers), content_type="application/json")


@pytest.mark.tools
def test_the_upload_request_is_valid_against_githubs_openapi_description(github_openapi):
    from openapi_core.testing import MockResponse

    github = GitHub()
    runner.upload_report(report(), UPLOAD, github)
    (request,) = github.requests
    github_openapi.validate_request(mock(request))
    github_openapi.validate_response(mock(request), MockResponse(json.dumps(RECEIPT).encode(), status_code=202,
                                                                 content_type="application/json"))


@pytest.mark.tools
@pytest.mark.parametrize("change, error", [
    ({"commit_sha": SHA[:12]}, "does not match"),
    ({"ref": "main"}, "does not match"),
    ({"sarif": None}, "'sarif' is a required property"),
    ({"sarif_file": "x"}, "Additional properties are not allowed"),
])
def test_a_malformed_upload_is_rejected_by_githubs_openapi_description(github_openapi, change: dict, error: str):
    from openapi_core.validation.request.exceptions import InvalidRequestBody

    request = github_api.sarif_request(b"{}", UPLOAD)
    body = {k: v for k, v in {**body_of(request), **change}.items() if v is not None}
    with pytest.raises(InvalidRequestBody) as rejected:
        github_openapi.validate_request(mock(request, body))
    assert error in str(rejected.value.__cause__.schema_errors)
