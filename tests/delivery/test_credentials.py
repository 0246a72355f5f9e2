"""AWS credentials: static keys, GitHub's OIDC flow (a tiny local server standing in for GitHub's token endpoint, then
moto's STS for `assume_role_with_web_identity`), the usual AWS environment, and the one-line errors; planted values
never in a message or repr, and given (by value) to the one step that names them."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import json
import threading

import pytest

from ci.core.scheduler import run_steps
from ci.core.step import Judgement, Step
from ci.delivery import credentials
from ci.delivery.clients import Target, unsigned_sts
from ci.executors.local import LocalExecutor
from tests.delivery.conftest import REGION

REQUEST_TOKEN, JWT = "planted-request-token-71", "eyJplanted.jwt.value"
ROLE = "arn:aws:iam::123456789012:role/bayon-deploy"


class _GitHub(http.server.BaseHTTPRequestHandler):
    """GitHub's token endpoint: the JWT for a request with the bearer token and `&audience=sts.amazonaws.com`."""

    seen: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.seen.append((self.path, self.headers.get("Authorization", "")))
        ok = self.headers.get("Authorization") == f"Bearer {REQUEST_TOKEN}" and self.path.endswith(
            "&audience=sts.amazonaws.com")
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"count": 1, "value": JWT} if ok else {"message": "Bad credentials"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def github_url():
    server = http.server.HTTPServer(("127.0.0.1", 0), _GitHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken?api-version=2.0"
    server.shutdown()


def test_oidc_token_then_assumed_role(github_url, moto_url):
    _GitHub.seen.clear()
    given = credentials.Given(role_arn=ROLE, oidc_request_url=github_url, oidc_request_token=REQUEST_TOKEN)
    aws = credentials.session(given, REGION, unsigned_sts(Target(REGION, moto_url, 1)))
    assert _GitHub.seen == [(github_url[github_url.index("/_apis"):] + "&audience=sts.amazonaws.com",
                             f"Bearer {REQUEST_TOKEN}")]
    identity = aws.client("sts", endpoint_url=moto_url).get_caller_identity()
    assert identity["Arn"].endswith(f"assumed-role/bayon-deploy/{credentials.SESSION_NAME}")
    values = credentials.secret_values(aws)
    assert set(values) == {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}
    assert values["aws-access-key-id"].startswith("ASIA")


def test_a_refused_request_token_is_one_line_without_the_token(github_url, moto_url):
    given = credentials.Given(role_arn=ROLE, oidc_request_url=github_url, oidc_request_token="wrong-token-55")
    with pytest.raises(credentials.CredentialsError, match="HTTP 401.*id-token: write") as caught:
        credentials.session(given, REGION, unsigned_sts(Target(REGION, moto_url, 1)))
    assert "wrong-token-55" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(("given", "message"), [
    (credentials.Given(access_key_id="AKIAPLANTED1"), "--aws-access-key-id and --aws-secret-access-key go together"),
    (credentials.Given(role_arn=ROLE), "--aws-role-arn, --oidc-request-url and --oidc-request-token go together"),
    (credentials.Given("AKIAPLANTED1", "s3cr3t-planted", role_arn=ROLE), "not both"),
])
def test_incomplete_credentials_say_what_to_pass(given, message):
    with pytest.raises(credentials.CredentialsError, match=message) as caught:
        credentials.session(given, REGION)
    assert "AKIAPLANTED1" not in str(caught.value) and "s3cr3t-planted" not in str(caught.value)


def test_repr_never_shows_a_value():
    shown = repr(credentials.Given("AKIAPLANTED1", "s3cr3t-planted", "tok-planted", oidc_request_token="req-planted"))
    assert not any(v in shown for v in ("AKIAPLANTED1", "s3cr3t-planted", "tok-planted", "req-planted"))


def test_the_usual_aws_environment_locally(monkeypatch, tmp_path):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENV1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
    assert credentials.secret_values(credentials.session(credentials.Given(), REGION)) == {
        "aws-access-key-id": "AKIAFROMENV1", "aws-secret-access-key": "from-env-secret"}
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(credentials.CredentialsError, match="no AWS credentials: pass --aws-access-key-id"):
        credentials.session(credentials.Given(), REGION)


def _digest_step(step_id: str, secrets: dict[str, str]) -> Step:
    """A step printing the SHA-256 of its AWS_SECRET_ACCESS_KEY (never the value)."""
    return Step(id=step_id, tool="sh", argv=("sh", "-c", 'printf %s "$AWS_SECRET_ACCESS_KEY" | sha256sum'),
                judge=lambda run: Judgement("passed", reason=run.stdout.split()[0]), secrets=secrets,
                tool_image="python:3.11-slim-bookworm")


def test_given_secrets_reach_only_the_step_naming_them(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-value-must-not-pass")
    (tmp_path / "package.json").write_text("{}")

    async def main():
        async with LocalExecutor(tmp_path) as executor:
            executor.give_secrets({"aws-secret-access-key": "given-planted-value"})
            return await run_steps("t", executor, [_digest_step("with", credentials.CREDENTIAL_SECRETS),
                                                   _digest_step("without", {})])

    reasons = {s.id: s.reason for s in asyncio.run(main()).steps}
    assert reasons["with"] == hashlib.sha256(b"given-planted-value").hexdigest()
    assert reasons["without"] == hashlib.sha256(b"").hexdigest()  # neither the given value nor the host's
