"""GitHub's REST API as plain requests and answers: one client for every call the pipeline makes.

A call is a `Request` (method, URL, headers, JSON body) handed to a `Transport`, so tests check each one against
GitHub's OpenAPI description and answer it themselves; the default transport is the standard library's. An
answer outside the statuses a call expects is one line (`GitHubError`) with GitHub's message and the fix for that
status, naming the token permission the call needs; the token is in no message, repr or report.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ci.core.errors import BayonError, UsageError

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
TIMEOUT_S = 60
PER_PAGE = 100
MAX_PAGES = 50
"""A listing stops after this many pages (5,000 items): enough for comments, jobs and policies."""


class GitHubError(BayonError):
    """GitHub refused the request or could not be reached (one line, with the fix)."""

    exit_code = 3


@dataclass(frozen=True)
class Request:
    """An HTTP request as data; `repr` leaves out the headers (they hold the token) and the body."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


Transport = Callable[[Request], Response]


def urllib_transport(request: Request, timeout_s: float = TIMEOUT_S) -> Response:
    """Send with the standard library; an HTTP error status is an answer, not an exception."""
    req = urllib.request.Request(request.url, data=request.body or None, headers=dict(request.headers),
                                 method=request.method)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as answer:
            return Response(answer.status, answer.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read())
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
        raise GitHubError(f"could not reach the GitHub API ({reason}); check the network and the API URL") from None


def headers(token: str) -> dict[str, str]:
    """The headers of every call: JSON, the API version, the token."""
    return {"Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}",
            "Content-Type": "application/json", "User-Agent": "bayon-pipeline", "X-GitHub-Api-Version": API_VERSION}


def message_of(response: Response) -> str:
    """GitHub's `message` (and its `errors`) on one short line, or what the body was."""
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        return "no JSON message"
    if not isinstance(data, dict):
        return "no JSON message"
    said = str(data.get("message") or "no JSON message")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        said += ": " + "; ".join(str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
                                 for e in errors[:3])
    return " ".join(said.split())[:300]


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any


class Client:
    """One repository's API with one token. `call` returns the decoded answer when its status is one the call
    expects, else raises GitHubError naming `permission` (what the token needs for this call)."""

    def __init__(self, repository: str, token: str, transport: Transport = urllib_transport,
                 api_url: str = API_URL):
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise UsageError(f"--github-repository {repository!r}: give owner/name (in Actions: "
                             "${{ github.repository }})")
        self.repository = repository
        self._token = token
        self._transport = transport
        self._api_url = api_url.rstrip("/")

    def __repr__(self) -> str:
        return f"Client({self.repository!r})"

    @property
    def web_url(self) -> str:
        """The web address of the repository's server: https://github.com for the public API; GitHub Enterprise
        Server's API URL without /api/v3; GHE.com's (api.TENANT.ghe.com) without its `api.`."""
        if self._api_url == API_URL:
            return "https://github.com"
        parts = urllib.parse.urlsplit(self._api_url.removesuffix("/api/v3"))
        host = parts.netloc.removeprefix("api.") if parts.netloc.endswith(".ghe.com") else parts.netloc
        return f"{parts.scheme}://{host}{parts.path}"

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        """The full URL of an API path; `{repo}` in it stands for /repos/OWNER/NAME."""
        path = path.replace("{repo}", f"/repos/{self.repository}")
        text = f"{self._api_url}{path}"
        return f"{text}?{urllib.parse.urlencode(query)}" if query else text

    def call(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201),
             permission: str = "", query: Mapping[str, Any] | None = None) -> Answer:
        """One request; `ok` lists the statuses that are answers (e.g. 404 where absence is an answer)."""
        data = json.dumps(body).encode() if body is not None else b""
        response = self._transport(Request(method, self.url(path, query), headers(self._token), data))
        if response.status not in ok:
            raise GitHubError(f"GitHub refused {method} {path.replace('{repo}', '/repos/' + self.repository)} "
                              f"({response.status}: {message_of(response)}); {self._fix(response.status, permission)}")
        try:
            decoded = json.loads(response.body) if response.body else None
        except ValueError:
            raise GitHubError(f"GitHub answered {method} {path} with {response.status} and a body that is not "
                              "JSON; retry later, or check --github-api-url") from None
        return Answer(response.status, decoded)

    def pages(self, path: str, key: str | None = None, *, permission: str = "",
              query: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a listing, page by page (`key`: the answer's field holding the items)."""
        for page in range(1, MAX_PAGES + 1):
            answer = self.call("GET", path, permission=permission, ok=(200,),
                               query={**(query or {}), "per_page": PER_PAGE, "page": page})
            items = answer.data.get(key, []) if key and isinstance(answer.data, dict) else answer.data
            if not isinstance(items, list):
                raise GitHubError(f"GitHub answered GET {path} with no list of items; retry later")
            yield from items
            if len(items) < PER_PAGE:
                return

    @staticmethod
    def _fix(status: int, permission: str) -> str:
        needs = f" ({permission})" if permission else ""
        return {
            401: "the token was refused; pass a valid one",
            403: f"the token lacks a permission{needs}, or a rate limit was hit; give it that permission",
            404: f"check --github-repository, and that the token can see it{needs}",
            422: "GitHub could not process the request: see its message",
        }.get(status, "retry later, or see the GitHub status page")
