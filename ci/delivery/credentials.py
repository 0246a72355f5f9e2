"""AWS credentials for a delivery function, as one boto3 Session: from the secret arguments (static keys, or a role
assumed with GitHub's OIDC token), else, locally, the usual AWS environment (variables, profile, SSO...).

A module cannot see the Actions runner's environment, so the OIDC request URL and token are passed in; the token
request is GitHub's (actions/toolkit oidc-utils.ts): GET `<url>&audience=sts.amazonaws.com` with the request token as
a bearer token, the JWT in the JSON field `value`. No value ever goes into a message, a log or a repr.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import UsageError

AUDIENCE = "sts.amazonaws.com"
SESSION_NAME = "bayon-pipeline"
DURATION_S = 3600
CREDENTIAL_SECRETS = {"AWS_ACCESS_KEY_ID": "aws-access-key-id", "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key",
                      "AWS_SESSION_TOKEN": "aws-session-token"}
"""The env var each credential travels under to the one step that needs it, and its secret name."""

Fetch = Callable[[str, str], bytes]
"""GET a URL with a bearer token; the response body (raises OSError when the request fails)."""


class CredentialsError(UsageError):
    """The credentials given are incomplete or were refused: one line saying which and how to fix it."""


@dataclass(frozen=True)
class Given:
    """The credential arguments as given (plaintext read at the client only); `repr` shows which were given, never
    a value."""

    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    role_arn: str = ""
    oidc_request_url: str = ""
    oidc_request_token: str | None = field(default=None, repr=False)


def urllib_fetch(url: str, bearer: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the URL is GitHub's, passed in)
        return response.read()


def oidc_token(url: str, request_token: str, fetch: Fetch = urllib_fetch) -> str:
    """GitHub's OIDC JWT for the audience `sts.amazonaws.com`."""
    separator = "&" if "?" in url else "?"
    try:
        body = fetch(f"{url}{separator}audience={AUDIENCE}", request_token)
        token = json.loads(body).get("value")
    except urllib.error.HTTPError as exc:
        raise CredentialsError(f"--oidc-request-url: GitHub's token endpoint answered HTTP {exc.code}; give the job "
                               "`permissions: id-token: write` and pass ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise CredentialsError(f"--oidc-request-url: no token from GitHub's token endpoint "
                               f"({type(exc).__name__}); pass ACTIONS_ID_TOKEN_REQUEST_URL as given") from None
    if not isinstance(token, str) or not token:
        raise CredentialsError("--oidc-request-url: GitHub's answer has no token (`value`); pass "
                               "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN as given")
    return token


def session(given: Given, region: str, sts=None, fetch: Fetch = urllib_fetch) -> boto3.Session:
    """The Session the credentials make: static keys, a role assumed with OIDC (`sts`: an STS client, which needs no
    credentials), or, with no argument, the usual AWS environment."""
    keys = given.access_key_id, given.secret_access_key
    oidc = given.role_arn, given.oidc_request_url, given.oidc_request_token
    if any(keys) and any(oidc):
        raise CredentialsError("pass either --aws-access-key-id/--aws-secret-access-key or --aws-role-arn with "
                               "--oidc-request-url/--oidc-request-token, not both")
    if any(keys) or given.session_token:
        if not all(keys):
            raise CredentialsError("--aws-access-key-id and --aws-secret-access-key go together; pass both")
        return boto3.Session(*keys, given.session_token or None, region_name=region)
    if any(oidc):
        if not all(oidc):
            raise CredentialsError("--aws-role-arn, --oidc-request-url and --oidc-request-token go together; pass all "
                                   "three (in Actions: ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, with id-token: write)")
        return _assumed(given, region, sts, fetch)
    found = boto3.Session(region_name=region)
    if found.get_credentials() is None:
        raise CredentialsError("no AWS credentials: pass --aws-access-key-id/--aws-secret-access-key (or --aws-role-arn "
                               "with --oidc-request-url/--oidc-request-token), or locally set AWS_PROFILE or "
                               "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    return found


def _assumed(given: Given, region: str, sts, fetch: Fetch) -> boto3.Session:
    token = oidc_token(given.oidc_request_url, given.oidc_request_token or "", fetch)
    try:
        answer = sts.assume_role_with_web_identity(RoleArn=given.role_arn, RoleSessionName=SESSION_NAME,
                                                   WebIdentityToken=token, DurationSeconds=DURATION_S)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__
        raise CredentialsError(f"--aws-role-arn {given.role_arn}: STS refused the OIDC token ({code}); check the "
                               "role's trust policy (audience sts.amazonaws.com, the repository's sub)") from None
    c = answer["Credentials"]
    return boto3.Session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], region_name=region)


def secret_values(aws: boto3.Session) -> dict[str, str]:
    """The session's credentials by secret name (`CREDENTIAL_SECRETS`), for the one step that needs them."""
    frozen = aws.get_credentials().get_frozen_credentials()
    values = {"aws-access-key-id": frozen.access_key, "aws-secret-access-key": frozen.secret_key,
              "aws-session-token": frozen.token}
    return {name: value for name, value in values.items() if value}
