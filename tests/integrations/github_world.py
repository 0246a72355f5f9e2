"""A stand-in GitHub repository for tests: a transport (`ci.integrations.github_rest.Transport`) that checks every
request against GitHub's OpenAPI description (@octokit/openapi), answers it from its own state (environments and
their name patterns, users and teams, workflow runs and jobs, deployments and statuses, releases, issue comments, check runs)
and checks its answer against the description too, so neither side can drift from GitHub's API.

It is a test double of GitHub's REST answers, nothing more: `fail` plants an answer for a call (401, 404, 422...),
`requests` records what was asked. The description loads once per session (`github_spec` in tests/conftest.py).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from npm_files import npm_file

from ci.integrations.github_rest import API_URL, Request, Response

OPENAPI = ("@octokit/openapi@23.0.2", "generated/api.github.com.json")
WHEN = "2026-12-01T10:00:00Z"
ERROR_DOCS = "https://docs.github.com/rest"


def load_openapi(cache: Path):
    """GitHub's OpenAPI description as an openapi-core object, and the raw document (for component schemas)."""
    from openapi_core import Config, OpenAPI

    document = json.loads(npm_file(cache, *OPENAPI).read_text())
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None)), document


class Spec:
    """The description: validates requests and answers, and makes minimal valid objects of its schemas."""

    def __init__(self, cache: Path) -> None:
        self.openapi, self.document = load_openapi(cache)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def example(self, schema: dict[str, Any] | str) -> Any:
        """A minimal instance of a schema (its required properties only, each the simplest valid value)."""
        schema = self._resolve({"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.example(part))
            return merged
        if "anyOf" in schema or "oneOf" in schema:
            return self.example((schema.get("anyOf") or schema["oneOf"])[0])
        if "enum" in schema:  # before nullable: openapi-core checks a null against the enum too
            return schema["enum"][0]
        if schema.get("nullable"):
            return None
        kind = schema.get("type", "object")
        if kind == "object":
            props = schema.get("properties", {})
            return {name: self.example(props.get(name, {"type": "string"})) for name in schema.get("required", ())}
        return {"array": [], "integer": 1, "number": 1, "boolean": False}.get(kind) if kind != "string" else (
            WHEN if schema.get("format") == "date-time" else
            "https://example.invalid/x" if schema.get("format") == "uri" else "x")

    def make(self, schema: str, /, **values: Any) -> dict[str, Any]:
        """A minimal instance of the component schema, with `values` set."""
        return {**self.example(schema), **values}

    def check_request(self, request: Request) -> None:
        self.openapi.validate_request(mock_request(request))

    def check_answer(self, request: Request, response: Response) -> None:
        from openapi_core.testing import MockResponse

        if response.status in (401, 403) or (response.status == 404 and not self._declares(request, 404)):
            error = json.loads(response.body)  # GitHub's basic error, whatever the call
            assert isinstance(error.get("message"), str) and isinstance(error.get("documentation_url"), str)
            return
        self.openapi.validate_response(mock_request(request), MockResponse(response.body, response.status))

    def _declares(self, request: Request, status: int) -> bool:
        from openapi_core.templating.paths.finders import APICallPathFinder

        found = APICallPathFinder(self.openapi.spec, base_url=None).find(
            request.method.lower(), request.url.split("?")[0])
        return str(status) in found.operation / "responses"


def mock_request(request: Request):
    from openapi_core.testing import MockRequest

    url = urllib.parse.urlsplit(request.url)
    query = dict(urllib.parse.parse_qsl(url.query))
    return MockRequest(API_URL, request.method.lower(), url.path, args=query, headers=dict(request.headers),
                       data=request.body or None)


@dataclass
class Environment:
    id: int
    wait_timer: int = 0
    prevent_self_review: bool = False
    reviewers: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, bool] | None = None
    patterns: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    """A workflow run: `run_started_at` of its first attempt (None: absent), and of each re-run attempt in
    `reruns` (attempt number -> when it started; GitHub resets run_started_at on a re-run); its jobs carry their
    `run_attempt` (default 1)."""

    run_started_at: str | None
    created_at: str
    jobs: list[dict[str, Any]]
    reruns: dict[int, str] = field(default_factory=dict)

    @property
    def attempt(self) -> int:
        return max([*(j.get("run_attempt", 1) for j in self.jobs), *self.reruns, 1])

    def started(self) -> str | None:
        """The run's run_started_at as GitHub gives it: that of its latest attempt."""
        if self.attempt == 1:
            return self.run_started_at
        if self.attempt not in self.reruns:
            raise AssertionError(f"attempt {self.attempt} has jobs but no start: give Run.reruns[{self.attempt}]")
        return self.reruns[self.attempt]


class World:
    """The stand-in repository `owner/name`; call it as a transport."""

    def __init__(self, spec: Spec, repository: str = "octo-org/coagent", private: bool = False) -> None:
        self.spec, self.repository, self.private = spec, repository, private
        self.users: dict[str, int] = {}
        self.teams: dict[str, int] = {}
        self.environments: dict[str, Environment] = {}
        self.runs: dict[int, Run] = {}
        self.deployments: list[dict[str, Any]] = []
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self.releases: list[dict[str, Any]] = []
        self.check_runs: dict[str, list[dict[str, Any]]] = {}
        """Check runs by commit, as planted and in that order (the API's order is not documented)."""
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.refs: dict[str, str] = {}
        """Tags and branches by name: the commit a deployment of that ref gets."""
        self.fail: list[tuple[str, str, int, str]] = []
        """Planted answers: (method, path regex, status, message); the first match answers instead."""
        self.requests: list[Request] = []
        self.errors: list[str] = []
        """What the served world could not accept or answer validly (a test asserts it stays empty)."""
        self._ids = iter(range(1000, 10**9))

    # what was asked

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, urllib.parse.urlsplit(r.url).path) for r in self.requests if r.method != "GET"]

    def bodies(self, method: str, suffix: str) -> list[Any]:
        return [json.loads(r.body) for r in self.requests
                if r.method == method and urllib.parse.urlsplit(r.url).path.endswith(suffix)]

    # the transport

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        self.spec.check_request(request)
        response = self._answer(request)
        self.spec.check_answer(request, response)
        return response

    def _answer(self, request: Request) -> Response:
        url = urllib.parse.urlsplit(request.url)
        path, query = urllib.parse.unquote(url.path), dict(urllib.parse.parse_qsl(url.query))
        for method, pattern, status, message in self.fail:
            if method == request.method and re.fullmatch(pattern, path):
                return _error(status, message)
        body = json.loads(request.body) if request.body else None
        prefix = f"/repos/{self.repository}"
        rest = path.removeprefix(prefix) if path.startswith(prefix) else None
        for route, handler in self._routes():
            method, pattern = route.split(" ", 1)
            target = path
            if pattern.startswith("{repo}"):
                pattern, target = pattern.removeprefix("{repo}"), rest
            match = re.fullmatch(pattern, target) if target is not None and method == request.method else None
            if match:
                return handler(*match.groups(), body=body, query=query)
        return _error(404, "Not Found")

    def _routes(self):
        return [
            ("GET {repo}", self._repo),
            ("GET /users/([^/]+)", self._user),
            ("GET /orgs/([^/]+)/teams/([^/]+)", self._team),
            ("GET {repo}/environments", self._environments),
            ("PUT {repo}/environments/([^/]+)", self._put_environment),
            ("GET {repo}/environments/([^/]+)/deployment-branch-policies", self._patterns),
            ("POST {repo}/environments/([^/]+)/deployment-branch-policies", self._add_pattern),
            ("DELETE {repo}/environments/([^/]+)/deployment-branch-policies/(\\d+)", self._delete_pattern),
            ("GET {repo}/actions/runs/(\\d+)", self._run),
            ("GET {repo}/actions/runs/(\\d+)/jobs", self._jobs),
            ("GET {repo}/deployments", self._deployments),
            ("POST {repo}/deployments", self._create_deployment),
            ("GET {repo}/deployments/(\\d+)/statuses", self._statuses),
            ("POST {repo}/deployments/(\\d+)/statuses", self._add_status),
            ("GET {repo}/releases", self._releases),
            ("POST {repo}/releases", self._create_release),
            ("GET {repo}/releases/tags/(.+)", self._release_by_tag),
            ("PATCH {repo}/releases/(\\d+)", self._update_release),
            ("GET {repo}/issues/(\\d+)/comments", self._comments),
            ("POST {repo}/issues/(\\d+)/comments", self._add_comment),
            ("PATCH {repo}/issues/comments/(\\d+)", self._update_comment),
            ("GET {repo}/commits/([^/]+)/check-runs", self._check_runs),
        ]

    # answers

    def _repo(self, body, query) -> Response:
        owner, name = self.repository.split("/")
        user = self._simple_user(owner, 1)
        return _json(200, self.spec.make("full-repository", id=1, name=name, full_name=self.repository, owner=user,
                                         private=self.private, visibility="private" if self.private else "public"))

    def _simple_user(self, login: str, user_id: int) -> dict[str, Any]:
        return self.spec.make("simple-user", login=login, id=user_id, type="User")

    def _user(self, login, body, query) -> Response:
        if login not in self.users:
            return _error(404, "Not Found")
        return _json(200, self.spec.make("public-user", login=login, id=self.users[login], type="User",
                                         user_view_type="public"))

    def _team(self, org, slug, body, query) -> Response:
        if f"{org}/{slug}" not in self.teams:
            return _error(404, "Not Found")
        return _json(200, self._team_object(org, slug, full=True))

    def _team_object(self, org: str, slug: str, full: bool = False) -> dict[str, Any]:
        team_id = self.teams[f"{org}/{slug}"]
        kind = "team-full" if full else "team"
        return self.spec.make(kind, id=team_id, slug=slug, name=slug, **({"organization": self.spec.make(
            "team-organization", login=org)} if full else {}))

    def _environment_object(self, name: str, env: Environment) -> dict[str, Any]:
        rules: list[dict[str, Any]] = []
        if env.wait_timer:
            rules.append({"id": env.id + 1, "node_id": "R1", "type": "wait_timer", "wait_timer": env.wait_timer})
        if env.reviewers:
            rules.append({"id": env.id + 2, "node_id": "R2", "type": "required_reviewers",
                          "prevent_self_review": env.prevent_self_review,
                          "reviewers": [{"type": r["type"], "reviewer": self._reviewer(r)} for r in env.reviewers]})
        if env.policy:
            rules.append({"id": env.id + 3, "node_id": "R3", "type": "branch_policy"})
        return self.spec.make("environment", id=env.id, name=name, protection_rules=rules,
                              deployment_branch_policy=env.policy)

    def _reviewer(self, reviewer: dict[str, Any]) -> dict[str, Any]:
        if reviewer["type"] == "User":
            login = next(login for login, i in self.users.items() if i == reviewer["id"])
            return self._simple_user(login, reviewer["id"])
        org, slug = next(k for k, i in self.teams.items() if i == reviewer["id"]).split("/")
        return self._team_object(org, slug)

    def _environments(self, body, query) -> Response:
        items = [self._environment_object(n, e) for n, e in self.environments.items()]
        page = _page(items, query)
        return _json(200, {"total_count": len(items), "environments": page})

    def _put_environment(self, name, body, query) -> Response:
        body = body or {}
        policy = body.get("deployment_branch_policy")
        if policy and policy["protected_branches"] == policy["custom_branch_policies"]:
            return _error(422, "Only one of protected_branches and custom_branch_policies can be true")
        for reviewer in body.get("reviewers") or ():
            known = self.users.values() if reviewer["type"] == "User" else self.teams.values()
            if reviewer["id"] not in known:
                return _error(422, f"Reviewer {reviewer['id']} is not a collaborator")
        if len(body.get("reviewers") or ()) > 6:
            return _error(422, "Only 6 reviewers are allowed")
        env = self.environments.setdefault(name, Environment(next(self._ids)))
        if "wait_timer" in body:
            env.wait_timer = body["wait_timer"]
        if "reviewers" in body:
            env.reviewers = list(body["reviewers"] or [])
        if "prevent_self_review" in body:
            env.prevent_self_review = body["prevent_self_review"]
        if "deployment_branch_policy" in body:
            env.policy = policy
            if not policy:
                env.patterns = []
        return _json(200, self._environment_object(name, env))

    def _patterns(self, name, body, query) -> Response:
        env = self.environments.get(name)
        if env is None:
            return _error(404, "Not Found")
        items = [self.spec.make("deployment-branch-policy", node_id="P", **p) for p in env.patterns]
        return _json(200, {"total_count": len(items), "branch_policies": _page(items, query)})

    def _add_pattern(self, name, body, query) -> Response:
        env = self.environments.get(name)
        if env is None or not (env.policy or {}).get("custom_branch_policies"):
            return _error(404, "Not Found")
        kind = body.get("type", "branch")
        if any(p["name"] == body["name"] and p["type"] == kind for p in env.patterns):
            return Response(303, b"")
        pattern = {"id": next(self._ids), "name": body["name"], "type": kind}
        env.patterns.append(pattern)
        return _json(200, self.spec.make("deployment-branch-policy", node_id="P", **pattern))

    def _delete_pattern(self, name, policy_id, body, query) -> Response:
        env = self.environments[name]
        env.patterns = [p for p in env.patterns if p["id"] != int(policy_id)]
        return Response(204, b"")

    def _run(self, run_id, body, query) -> Response:
        run = self.runs.get(int(run_id))
        if run is None:
            return _error(404, "Not Found")
        started = {"run_started_at": run.started()} if run.started() else {}  # absent, never null
        return _json(200, self.spec.make("workflow-run", id=int(run_id), created_at=run.created_at,
                                         run_attempt=run.attempt, **started))

    def _jobs(self, run_id, body, query) -> Response:
        run = self.runs[int(run_id)]  # filter=latest (GitHub's default): the latest attempt's jobs only
        chosen = [j for j in run.jobs if j.get("run_attempt", 1) == run.attempt or query.get("filter") == "all"]
        items = [self.spec.make("job", run_id=int(run_id), **job) for job in chosen]
        return _json(200, {"total_count": len(items), "jobs": _page(items, query)})

    def _deployments(self, body, query) -> Response:
        items = [d for d in reversed(self.deployments)
                 if all(d.get(k) == query[k] for k in ("environment", "sha") if k in query)]
        return _json(200, [self._deployment_object(d) for d in _page(items, query)])

    def _deployment_object(self, deployment: dict[str, Any]) -> dict[str, Any]:
        return self.spec.make("deployment", **deployment, creator=self._simple_user("bayon", 7))

    def _create_deployment(self, body, query) -> Response:
        sha = body["ref"] if re.fullmatch("[0-9a-f]{40}", body["ref"]) else self.refs.get(body["ref"], "0" * 40)
        deployment = {"id": next(self._ids), "sha": sha,
                      "ref": body["ref"], "environment": body.get("environment", "production"),
                      "payload": body.get("payload", {}), "description": body.get("description"),
                      "production_environment": body.get("production_environment", False)}
        self.deployments.append(deployment)
        self.statuses[deployment["id"]] = []
        return _json(201, self._deployment_object(deployment))

    def _statuses(self, deployment_id, body, query) -> Response:
        found = self.statuses.get(int(deployment_id))
        if found is None:
            return _error(404, "Not Found")
        return _json(200, [self._status_object(s) for s in _page(list(reversed(found)), query)])

    def _status_object(self, status: dict[str, Any]) -> dict[str, Any]:
        return self.spec.make("deployment-status", **status, creator=self._simple_user("bayon", 7))

    def _add_status(self, deployment_id, body, query) -> Response:
        status = {"id": next(self._ids), "state": body["state"], "description": body.get("description", ""),
                  "environment_url": body.get("environment_url", ""), "log_url": body.get("log_url", ""),
                  "target_url": body.get("log_url", "")}
        self.statuses[int(deployment_id)].append(status)
        return _json(201, self._status_object(status))

    def _release_object(self, release: dict[str, Any]) -> dict[str, Any]:
        return self.spec.make("release", **release, author=self._simple_user("bayon", 7), assets=[])

    def _releases(self, body, query) -> Response:
        return _json(200, [self._release_object(r) for r in _page(list(reversed(self.releases)), query)])

    def _create_release(self, body, query) -> Response:
        if any(r["tag_name"] == body["tag_name"] and not r["draft"] for r in self.releases):
            return _error(422, "Validation Failed: already_exists")
        release = {"id": next(self._ids), "tag_name": body["tag_name"], "name": body.get("name"),
                   "body": body.get("body"), "draft": body.get("draft", False),
                   "prerelease": body.get("prerelease", False)}
        self.releases.append(release)
        return _json(201, self._release_object(release))

    def _release_by_tag(self, tag, body, query) -> Response:
        found = [r for r in self.releases if r["tag_name"] == tag and not r["draft"]]  # GitHub hides drafts here
        return _json(200, self._release_object(found[0])) if found else _error(404, "Not Found")

    def _update_release(self, release_id, body, query) -> Response:
        release = next((r for r in self.releases if r["id"] == int(release_id)), None)
        if release is None:
            return _error(404, "Not Found")
        release.update({k: v for k, v in body.items() if k in ("body", "draft", "prerelease", "name")})
        return _json(200, self._release_object(release))

    def _comment_object(self, comment: dict[str, Any]) -> dict[str, Any]:
        """A comment as GitHub gives it; its author: `comment["user"]` (login, id, type), else the Actions bot."""
        login, user_id, kind = comment.get("user") or ("github-actions[bot]", 41898282, "Bot")
        return self.spec.make("issue-comment", **{**comment, "user": self.spec.make(
            "simple-user", login=login, id=user_id, type=kind)})

    def _comments(self, number, body, query) -> Response:
        return _json(200, [self._comment_object(c) for c in _page(self.comments.get(int(number), []), query)])

    def _add_comment(self, number, body, query) -> Response:
        comment = {"id": next(self._ids), "body": body["body"]}
        self.comments.setdefault(int(number), []).append(comment)
        return _json(201, self._comment_object(comment))

    def _update_comment(self, comment_id, body, query) -> Response:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(comment_id):
                    comment["body"] = body["body"]
                    return _json(200, self._comment_object(comment))
        return _error(404, "Not Found")

    def _check_runs(self, ref, body, query) -> Response:
        items = [self.spec.make("check-run", head_sha=self.refs.get(ref, ref), **run)
                 for run in self.check_runs.get(self.refs.get(ref, ref), [])]
        return _json(200, {"total_count": len(items), "check_runs": _page(items, query)})


def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
    size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
    return items[(page - 1) * size:page * size]


def _json(status: int, data: Any) -> Response:
    return Response(status, json.dumps(data).encode())


def _error(status: int, message: str) -> Response:
    return _json(status, {"message": message, "documentation_url": ERROR_DOCS, "status": str(status)})


@contextmanager
def served(world: World) -> Iterator[str]:
    """The world behind a local HTTP server (for the faces, which send with the standard library); its API URL."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, API_URL + self.path, dict(self.headers.items()), body)
            try:
                response = world(request)
            except Exception as exc:  # a request or answer the description rejects: the test sees it in errors
                world.errors.append(f"{self.command} {self.path}: {type(exc).__name__}: {exc}")
                response = _error(500, "the stand-in rejected this request")
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
