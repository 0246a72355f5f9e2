"""The trigger table as code (`route`): which stages an event runs and which environment it deploys, if any.

develop (an environment's `trigger.branch`) deploys automatically; an `rc-X.Y.Z[.N]` tag deploys the environment
whose trigger is `tags: rc` (staging), a `vX.Y.Z` tag the one with `tags: release` (production); other branches and
pull requests run checks only; a schedule runs its stage; a manual dispatch deploys the environment it names.
Release tags are read as semantic versions (the `semver` library): `rc-1.2.0.2` is `1.2.0-rc.2`, `rc-1.2.0` is
`1.2.0-rc.1`; a tag that looks like a release but is not one is a usage error, never "nothing to do".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import semver

from ci.config import Config
from ci.core.errors import UsageError

EVENTS = ("push", "pull_request", "schedule", "workflow_dispatch")
SCHEDULES = {"security": "security", "performance": "lighthouse"}
"""A scheduled run's name (--schedule; its workflow's file name) -> the one stage it runs, a registered function."""
MAIN_BRANCHES = ("main",)
"""Long-lived branches that get the security scan and infrastructure validation besides ci (with every branch an
environment's trigger names, e.g. develop)."""
CHECKS = ["ci"]
INTEGRATION_CHECKS = ["ci", "security", "validate-infra"]
DEPLOYS = {
    "branch": ["validate-infra", "package", "deploy"],
    "rc": ["ci", "security", "package", "deployment-plan", "deploy", "accept"],
    "release": ["deployment-plan", "check-approval", "deploy"],
}
"""The stages of an automatic deploy by trigger kind: a branch builds and deploys; an rc tag checks, builds,
deploys and accepts (integration tests and Lighthouse on the stack); a release tag promotes the accepted release
(approval, no rebuild)."""
DISPATCHED = ["deploy"]
RC_TAG = re.compile(r"rc-(?P<core>\d+\.\d+\.\d+)(?:\.(?P<n>\d+))?")
RELEASE_TAG = re.compile(r"v(?P<core>\d+\.\d+\.\d+)")
LOOKS_LIKE_RELEASE = re.compile(r"rc-|v\d")
"""A tag starting like this must be a well-formed release tag."""


@dataclass(frozen=True, order=True)
class Release:
    """A release tag read as a semantic version (ordered by it: rc-1.2.0 < rc-1.2.0.2 < v1.2.0)."""

    version: semver.Version
    tag: str
    kind: str  # rc | release

    def as_dict(self) -> dict[str, str]:
        return {"tag": self.tag, "kind": self.kind, "version": str(self.version)}


def parse_tag(tag: str) -> Release | None:
    """The release a tag names; None for a tag that is no release tag at all (e.g. docs-2024); a UsageError (exit
    2) for one that starts like a release tag and is malformed (v1.2, v01.2.3, rc-1.2.0.x)."""
    if not LOOKS_LIKE_RELEASE.match(tag):
        return None
    rc, final = RC_TAG.fullmatch(tag), RELEASE_TAG.fullmatch(tag)
    try:
        if final:
            return Release(semver.Version.parse(final["core"]), tag, "release")
        if rc and (rc["n"] is None or int(rc["n"]) >= 1):
            return Release(semver.Version.parse(f"{rc['core']}-rc.{rc['n'] or 1}"), tag, "rc")
    except ValueError:
        pass  # a leading zero: semver refuses it
    raise UsageError(f"tag {tag}: not a release tag; name a release vX.Y.Z or a release candidate rc-X.Y.Z[.N] "
                     "(numbers without leading zeros, N from 1), e.g. v1.4.0 or rc-1.4.0.2")


@dataclass(frozen=True)
class Route:
    """What an event runs: its stages (function names, in order), the environment it deploys, the release."""

    event: str
    ref: str
    stages: list[str]
    environment: str | None
    release: Release | None
    reason: str

    def as_dict(self) -> dict:
        return {"event": self.event, "ref": self.ref, "stages": self.stages, "environment": self.environment,
                "release": self.release.as_dict() if self.release else None, "reason": self.reason}


def route(config: Config, event: str, ref: str, base_ref: str = "", environment: str = "", release: str = "",
          schedule: str = "") -> Route:
    """The route of one event (GitHub's event name and `github.ref`; `base_ref`: a pull request's target branch;
    `environment`/`release`: a manual dispatch's inputs; `schedule`: which scheduled run)."""
    if event not in EVENTS:
        raise UsageError(f"--event {event}: choose from {', '.join(EVENTS)} (a tag push is push with refs/tags/...)")
    if event == "schedule":
        return _scheduled(event, ref, schedule)
    if schedule:
        raise UsageError(f"--schedule {schedule}: only --event schedule takes it")
    if event == "workflow_dispatch" and environment:
        return _dispatched(config, ref, environment, release)
    if environment or release:
        raise UsageError("--environment/--release: only --event workflow_dispatch takes them")
    if event == "pull_request":
        return _pull_request(config, ref, base_ref)
    return _pushed(config, event, ref)


def _branch_triggers(config: Config) -> dict[str, str]:
    return {e.trigger.branch: name for name, e in config.environments.items() if e.trigger and e.trigger.branch}


def _tag_target(config: Config, kind: str) -> str | None:
    return next((name for name, e in config.environments.items() if e.trigger and e.trigger.tags == kind), None)


def _pushed(config: Config, event: str, ref: str) -> Route:
    """A push (or a dispatch without an environment, which runs what a push of its ref runs)."""
    if ref.startswith("refs/tags/"):
        tag = ref.removeprefix("refs/tags/")
        found = parse_tag(tag)
        if found is None:
            return Route(event, ref, [], None, None, f"tag {tag} is no release tag (vX.Y.Z, rc-X.Y.Z[.N]): nothing runs")
        target = _tag_target(config, found.kind)
        if target is None:
            return Route(event, ref, [], None, found,
                         f"no environment has trigger tags: {found.kind}: nothing deploys {tag}")
        return Route(event, ref, list(DEPLOYS[found.kind]), target, found,
                     f"{'release candidate' if found.kind == 'rc' else 'release'} {found.version} deploys {target}")
    branch = _branch(ref, "--ref")
    target = _branch_triggers(config).get(branch)
    if target is not None:
        return Route(event, ref, ["ci", "security", *DEPLOYS["branch"]], target, None,
                     f"branch {branch} deploys {target}")
    if branch in MAIN_BRANCHES:
        return Route(event, ref, list(INTEGRATION_CHECKS), None, None, f"branch {branch}: checks, no environment")
    return Route(event, ref, list(CHECKS), None, None, f"feature branch {branch}: checks only")


def _branch(ref: str, flag: str) -> str:
    if not ref.startswith("refs/heads/") or ref == "refs/heads/":
        raise UsageError(f"{flag} {ref or '(empty)'}: give the full ref, refs/heads/BRANCH or refs/tags/TAG (in "
                         "Actions: github.ref)")
    return ref.removeprefix("refs/heads/")


def _pull_request(config: Config, ref: str, base_ref: str) -> Route:
    """Checks only; a pull request into a long-lived branch also scans and validates (and previews) the stack."""
    if not base_ref:
        raise UsageError("--base-ref: name the pull request's target branch (in Actions: github.base_ref)")
    base = base_ref.removeprefix("refs/heads/")
    if base in (*MAIN_BRANCHES, *_branch_triggers(config)):
        return Route("pull_request", ref, [*INTEGRATION_CHECKS, "preview-changes"], None, None,
                     f"pull request into {base}: checks and the change preview, no deploy")
    return Route("pull_request", ref, list(CHECKS), None, None, f"pull request into {base}: checks only")


def _scheduled(event: str, ref: str, schedule: str) -> Route:
    if schedule not in SCHEDULES:
        raise UsageError(f"--schedule {schedule or '(none)'}: name the scheduled run, one of {', '.join(SCHEDULES)}")
    return Route(event, ref, [SCHEDULES[schedule]], None, None, f"scheduled {schedule} run")


def _dispatched(config: Config, ref: str, environment: str, release: str) -> Route:
    """A manual deploy of `environment`: the release given (a tag is checked like a pushed one), else the ref's."""
    if environment not in config.environments:
        raise UsageError(f"--environment {environment}: no such environment in pipeline.yaml; choose from "
                         f"{', '.join(config.environments) or '(none configured)'}")
    found = parse_tag(release) if release else None
    if release and found is None and not re.fullmatch(r"[0-9a-f]{40}", release):
        raise UsageError(f"--release {release}: give a release tag (vX.Y.Z, rc-X.Y.Z[.N]) or a commit's full SHA")
    what = release or ref
    return Route("workflow_dispatch", ref, list(DISPATCHED), environment, found,
                 f"manual deploy of {what} to {environment}")


def render(found: Route, fmt: str) -> str:
    """The route as JSON (--format json) or as lines for a person (table)."""
    if fmt == "json":
        return json.dumps(found.as_dict(), indent=2) + "\n"
    if fmt != "table":
        raise UsageError(f"--format {fmt}: route prints table or json")
    release = f"{found.release.tag} ({found.release.kind} {found.release.version})" if found.release else "none"
    return (f"event        {found.event} {found.ref}\nstages       {', '.join(found.stages) or 'none'}\n"
            f"environment  {found.environment or 'none'}\nrelease      {release}\nreason       {found.reason}\n")
