"""GitHub deployment environments made to match a wanted description: read everything first, then write only what
differs (a second run writes nothing).

An environment's settings (wait timer, required reviewers, prevent_self_review, whether name patterns restrict who
deploys) are one PUT; its name patterns (`develop` as a branch, `rc-*` and `v*` as tags) are separate calls, added
when missing (GitHub's 303 means "exists") and deleted when no longer wanted. Reviewers are logins and `org/team`
slugs here, numeric ids for GitHub (looked up). Every call needs a token with Administration: write on the
repository, which the workflow's GITHUB_TOKEN can never have.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from ci.integrations.github_rest import Client, GitHubError

ADMINISTRATION = ("Administration: write on the repository, from a fine-grained personal access token or a GitHub "
                  "App; the workflow's GITHUB_TOKEN can never have it")
READ_USERS = "read access to the user or the organization's teams"
PAID_PLAN_RULE = ("on a private repository, environments and their branch and tag policies need GitHub Pro, Team "
                  "or Enterprise, and required reviewers and wait timers need GitHub Enterprise (GitHub Free, Pro "
                  "and Team offer them on public repositories only)")
"""GitHub's plans (docs: data/reusables/gated-features/environments.md): "If you are on a GitHub Free, GitHub Pro,
or GitHub Team plan, other deployment protection rules, such as a wait timer or required reviewers, are only
available for public repositories"."""


@dataclass(frozen=True)
class Pattern:
    """A name pattern that may deploy to the environment: a branch or a tag (fnmatch-like, e.g. `rc-*`)."""

    name: str
    type: str  # "branch" | "tag"

    def label(self) -> str:
        return f"{self.name} ({self.type})"


@dataclass(frozen=True)
class Wanted:
    """One environment as it should be: `reviewers` are logins or `org/team-slug`; no patterns: any ref deploys."""

    name: str
    reviewers: tuple[str, ...] = ()
    prevent_self_review: bool = False
    wait_timer: int = 0
    patterns: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class Change:
    environment: str
    what: str


@dataclass(frozen=True)
class Outcome:
    """What was changed (or, in a dry run, would be), and whether the repository is private."""

    changes: tuple[Change, ...]
    private: bool


def _path(name: str) -> str:
    return "{repo}/environments/" + urllib.parse.quote(name, safe="")


def reviewer_ids(client: Client, reviewers: tuple[str, ...]) -> list[dict[str, Any]]:
    """`[{type: User|Team, id}]` of logins and `org/team-slug`s; GitHubError naming one that does not exist."""
    ids = []
    for reviewer in reviewers:
        org, _, slug = reviewer.partition("/")
        path = f"/orgs/{org}/teams/{slug}" if slug else f"/users/{reviewer}"
        answer = client.call("GET", path, ok=(200, 404), permission=READ_USERS)
        if answer.status == 404:
            kind = f"team {slug} of {org}" if slug else f"user {reviewer}"
            raise GitHubError(f"GitHub knows no {kind} (404 on GET {path}); fix the reviewer in pipeline.yaml "
                              "approvals (a login, or org/team-slug), or give the token read access to the org's "
                              "teams")
        ids.append({"type": "Team" if slug else "User", "id": answer.data["id"]})
    return ids


def _current(environment: dict[str, Any]) -> dict[str, Any]:
    """An environment as GitHub describes it, in the shape of the PUT body (reviewers as {type, id}), plus the
    reviewers' logins or team slugs (`names`) for the lines printed."""
    rules = {rule.get("type"): rule for rule in environment.get("protection_rules") or ()}
    reviewing = rules.get("required_reviewers", {})
    reviewers = [{"type": r["type"], "id": r["reviewer"]["id"]} for r in reviewing.get("reviewers") or ()]
    names = {(r["type"], r["reviewer"]["id"]): r["reviewer"].get("login") or r["reviewer"].get("slug")
             for r in reviewing.get("reviewers") or ()}
    return {"wait_timer": rules.get("wait_timer", {}).get("wait_timer", 0) or 0,
            "prevent_self_review": bool(reviewing.get("prevent_self_review")) if reviewers else False,
            "reviewers": reviewers, "names": names,
            "deployment_branch_policy": environment.get("deployment_branch_policy")}


def _body(wanted: Wanted, reviewers: list[dict[str, Any]], now: dict[str, Any] | None) -> dict[str, Any]:
    """The PUT body; a wait timer of 0 is sent only to remove one (GitHub's docs ask for 1 to 43,200 minutes)."""
    policy = {"protected_branches": False, "custom_branch_policies": True} if wanted.patterns else None
    body = {"prevent_self_review": wanted.prevent_self_review and bool(reviewers), "reviewers": reviewers,
            "deployment_branch_policy": policy}
    if wanted.wait_timer or (now and now["wait_timer"]):
        body["wait_timer"] = wanted.wait_timer
    return body


def _described(wanted: Wanted) -> str:
    parts = [f"reviewers {', '.join(wanted.reviewers)}"] if wanted.reviewers else []
    parts += ["prevent_self_review"] if wanted.reviewers and wanted.prevent_self_review else []
    parts += [f"wait timer {wanted.wait_timer} min"] if wanted.wait_timer else []
    parts += ["only the name patterns below deploy"] if wanted.patterns else ["any branch or tag deploys"]
    return "; ".join(parts)


def _differences(wanted: Wanted, now: dict[str, Any] | None, body: dict[str, Any],
                 labels: dict[tuple, str]) -> list[str]:
    """The settings that differ, as the lines printed (`reviewers of production: +carol -bob`)."""
    name = wanted.name
    if now is None:
        return [f"created environment {name} ({_described(wanted)})"]
    lines = []
    if now["wait_timer"] != body.get("wait_timer", 0):
        lines.append(f"wait timer of {name}: {now['wait_timer']} -> {body.get('wait_timer', 0)} min")
    before = {(r["type"], r["id"]) for r in now["reviewers"]}
    after = {(r["type"], r["id"]) for r in body["reviewers"]}
    if before != after:
        added = [f"+{labels[key]}" for key in sorted(after - before)]
        removed = [f"-{now['names'].get((r['type'], r['id'])) or r['id']}" for r in now["reviewers"]
                   if (r["type"], r["id"]) not in after]
        lines.append(f"reviewers of {name}: {' '.join(added + removed)}")
    if now["prevent_self_review"] != body["prevent_self_review"]:
        lines.append(f"prevent_self_review of {name}: {str(now['prevent_self_review']).lower()} -> "
                     f"{str(body['prevent_self_review']).lower()}")
    if (now["deployment_branch_policy"] or None) != body["deployment_branch_policy"]:
        policy = "only the name patterns below" if body["deployment_branch_policy"] else "any branch or tag"
        lines.append(f"deployments to {name}: {policy}")
    return lines


def _patterns(client: Client, wanted: Wanted, exists: bool, dry_run: bool) -> list[str]:
    """Name patterns added when missing, deleted when not wanted (none read for an environment not created yet)."""
    path = _path(wanted.name) + "/deployment-branch-policies"
    current = list(client.pages(path, "branch_policies", permission=ADMINISTRATION)) if exists else []
    have = {Pattern(p["name"], p.get("type", "branch")): p["id"] for p in current}
    lines = []
    for pattern in wanted.patterns:
        if pattern in have:
            continue
        if not dry_run:
            client.call("POST", path, {"name": pattern.name, "type": pattern.type}, ok=(200, 303),
                        permission=ADMINISTRATION)
        lines.append(f"deployment pattern of {wanted.name}: +{pattern.label()}")
    if wanted.patterns:
        for pattern, policy_id in have.items():
            if pattern not in wanted.patterns:
                if not dry_run:
                    client.call("DELETE", f"{path}/{policy_id}", ok=(204,), permission=ADMINISTRATION)
                lines.append(f"deployment pattern of {wanted.name}: -{pattern.label()}")
    return lines


def reconcile(client: Client, wanted: list[Wanted], dry_run: bool = False) -> Outcome:
    """Make each wanted environment so, writing only what differs; `dry_run`: read only, say what would change."""
    repository = client.call("GET", "{repo}", ok=(200,), permission=ADMINISTRATION).data
    existing = {e["name"]: e for e in client.pages("{repo}/environments", "environments", permission=ADMINISTRATION)}
    private = bool(repository.get("private"))
    changes: list[Change] = []
    for env in wanted:
        reviewers = reviewer_ids(client, env.reviewers)
        labels = {(r["type"], r["id"]): name for r, name in zip(reviewers, env.reviewers)}
        current = existing.get(env.name)
        now = _current(current) if current else None
        body = _body(env, reviewers, now)
        lines = _differences(env, now, body, labels)
        if lines and not dry_run:
            try:
                client.call("PUT", _path(env.name), body, ok=(200,), permission=ADMINISTRATION)
            except GitHubError as exc:
                raise GitHubError(f"{exc}; {PAID_PLAN_RULE}" if private else str(exc)) from None
        lines += _patterns(client, env, current is not None, dry_run)
        changes += [Change(env.name, line) for line in lines]
    return Outcome(tuple(changes), private)
