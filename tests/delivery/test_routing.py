"""`route`: the trigger table as code, on the sample app's pipeline.yaml, through the library, bayon and Dagger."""

from __future__ import annotations

import asyncio
import json

import pytest
from apps import COAGENT, run_local
from dagger import dag

from ci import Ci
from ci.cli import signature
from ci.cli.app import main
from ci.config import load_config
from ci.core.errors import UsageError
from ci.core.text import kebab
from ci.delivery import routing
from ci.executors.dagger import DaggerExecutor
from ci.pipeline import runner

CONFIG = load_config((COAGENT / "pipeline.yaml").read_text())
SHA = "0123456789abcdef0123456789abcdef01234567"
RC = ["ci", "security", "package", "deployment-plan", "deploy", "accept"]
RELEASE = ["deployment-plan", "check-approval", "deploy"]
DEV = ["ci", "security", "validate-infra", "package", "deploy"]

TABLE = [
    # (event, ref, extra flags, stages, environment, release (tag, kind, version) or None)
    ("push", "refs/heads/develop", {}, DEV, "dev", None),
    ("push", "refs/heads/main", {}, ["ci", "security", "validate-infra"], None, None),
    ("push", "refs/heads/feature/login", {}, ["ci"], None, None),
    ("push", "refs/heads/fix-typo", {}, ["ci"], None, None),
    ("push", "refs/heads/developer", {}, ["ci"], None, None),  # not develop: a prefix is no match
    ("push", "refs/tags/rc-1.2.0", {}, RC, "staging", ("rc-1.2.0", "rc", "1.2.0-rc.1")),
    ("push", "refs/tags/rc-1.2.0.3", {}, RC, "staging", ("rc-1.2.0.3", "rc", "1.2.0-rc.3")),
    ("push", "refs/tags/rc-10.0.12.10", {}, RC, "staging", ("rc-10.0.12.10", "rc", "10.0.12-rc.10")),
    ("push", "refs/tags/v1.2.0", {}, RELEASE, "production", ("v1.2.0", "release", "1.2.0")),
    ("push", "refs/tags/v0.0.1", {}, RELEASE, "production", ("v0.0.1", "release", "0.0.1")),
    ("push", "refs/tags/docs-2026", {}, [], None, None),  # no release tag: nothing runs
    ("push", "refs/tags/vendor-drop", {}, [], None, None),
    ("pull_request", "refs/pull/7/merge", {"base_ref": "main"},
     ["ci", "security", "validate-infra", "preview-changes"], None, None),
    ("pull_request", "refs/pull/8/merge", {"base_ref": "develop"},
     ["ci", "security", "validate-infra", "preview-changes"], None, None),
    ("pull_request", "refs/pull/9/merge", {"base_ref": "feature/big"}, ["ci"], None, None),
    ("schedule", "refs/heads/main", {"schedule": "security"}, ["security"], None, None),
    ("schedule", "refs/heads/main", {"schedule": "performance"}, ["lighthouse"], None, None),
    ("workflow_dispatch", "refs/heads/develop", {"environment": "dev"}, ["deploy"], "dev", None),
    ("workflow_dispatch", "refs/heads/main", {"environment": "staging", "release": "rc-2.0.0.2"}, ["deploy"],
     "staging", ("rc-2.0.0.2", "rc", "2.0.0-rc.2")),
    ("workflow_dispatch", "refs/heads/main", {"environment": "production", "release": SHA}, ["deploy"],
     "production", None),
    ("workflow_dispatch", "refs/heads/feature/x", {}, ["ci"], None, None),  # no inputs: what a push of it runs
    ("workflow_dispatch", "refs/tags/rc-3.1.4", {}, RC, "staging", ("rc-3.1.4", "rc", "3.1.4-rc.1")),
]

MALFORMED = ["v1.2", "v01.2.3", "rc-1.2.0.x", "rc-1.2", "v1.2.3-rc.1", "rc-01.2.0", "rc-1.2.0.0", "rc-1.2.0.01",
             "v1.2.3.4", "rc-"]


@pytest.mark.parametrize("event,ref,extra,stages,environment,release", TABLE,
                         ids=[f"{e}:{r}:{','.join(x.values())}" for e, r, x, *_ in TABLE])
def test_the_routing_table(event, ref, extra, stages, environment, release):
    found = routing.route(CONFIG, event, ref, **extra).as_dict()
    assert found["stages"] == stages and found["environment"] == environment
    assert found["release"] == (dict(zip(("tag", "kind", "version"), release)) if release else None)
    assert found["event"] == event and found["ref"] == ref and found["reason"]


def test_the_table_covers_every_event_and_at_least_twenty_rows():
    assert len(TABLE) >= 20 and {row[0] for row in TABLE} == set(routing.EVENTS)


def test_every_stage_a_route_can_name_is_a_registered_function():
    """A route's stages are what the workflows call: a name nothing registers would be a stage that never runs."""
    registered = {kebab(name) for name in signature.load()}
    named = {*routing.SCHEDULES.values(), *routing.CHECKS, *routing.INTEGRATION_CHECKS, *routing.DISPATCHED,
             "preview-changes", *(s for stages in routing.DEPLOYS.values() for s in stages)}
    named |= {s for row in TABLE for s in row[3]}
    assert named - registered == set()


@pytest.mark.parametrize("tag", MALFORMED)
def test_a_malformed_release_tag_is_a_usage_error(tag: str):
    with pytest.raises(UsageError, match=rf"^tag {tag}: not a release tag; name a release vX\.Y\.Z"):
        routing.route(CONFIG, "push", f"refs/tags/{tag}")
    with pytest.raises(UsageError):  # the manual dispatch's release input is read the same way
        routing.route(CONFIG, "workflow_dispatch", "refs/heads/main", environment="staging", release=tag)


def test_release_tags_compare_as_semantic_versions():
    ordered = ["rc-1.2.0", "rc-1.2.0.2", "rc-1.2.0.10", "v1.2.0", "rc-1.10.0", "v1.10.0", "v2.0.0"]
    parsed = [routing.parse_tag(t) for t in ordered]
    assert sorted(reversed(parsed)) == parsed
    assert routing.parse_tag("rc-1.2.0") == routing.Release(routing.semver.Version(1, 2, 0, "rc.1"), "rc-1.2.0", "rc")


@pytest.mark.parametrize("event,ref,extra,message", [
    ("release", "refs/tags/v1.0.0", {}, "--event release: choose from push, pull_request"),
    ("push", "develop", {}, "--ref develop: give the full ref"),
    ("push", "", {}, r"--ref \(empty\): give the full ref"),
    ("pull_request", "refs/pull/1/merge", {}, "--base-ref: name the pull request's target branch"),
    ("schedule", "refs/heads/main", {}, r"--schedule \(none\): name the scheduled run"),
    ("schedule", "refs/heads/main", {"schedule": "nightly"}, "--schedule nightly: name the scheduled run"),
    *[("schedule", "refs/heads/main", {"schedule": s}, f"--schedule {s}: name the scheduled run, one of security, "
       r"performance\Z") for s in ("drift", "dependency-update", "cost")],  # no such function
    ("push", "refs/heads/main", {"schedule": "security"}, "--schedule security: only --event schedule"),
    ("push", "refs/heads/main", {"environment": "dev"}, "only --event workflow_dispatch takes them"),
    ("workflow_dispatch", "refs/heads/main", {"environment": "qa"}, "--environment qa: no such environment"),
    ("workflow_dispatch", "refs/heads/main", {"environment": "dev", "release": "abc123"},
     "--release abc123: give a release tag"),
])
def test_bad_flags_are_one_line_usage_errors(event, ref, extra, message):
    with pytest.raises(UsageError, match=message) as caught:
        routing.route(CONFIG, event, ref, **extra)
    assert "\n" not in str(caught.value)


def test_without_an_environment_for_the_tag_kind_nothing_deploys():
    found = routing.route(load_config("version: 1\n"), "push", "refs/tags/v1.0.0")
    assert found.stages == [] and found.environment is None and "no environment has trigger tags: release" in found.reason


def test_bayon_route_prints_json_and_a_table(capsys: pytest.CaptureFixture[str]):
    assert main(["route", "--source", str(COAGENT), "--event", "push", "--ref", "refs/tags/rc-1.4.0.2",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "event": "push", "ref": "refs/tags/rc-1.4.0.2", "stages": RC, "environment": "staging",
        "release": {"tag": "rc-1.4.0.2", "kind": "rc", "version": "1.4.0-rc.2"},
        "reason": "release candidate 1.4.0-rc.2 deploys staging"}
    assert main(["route", "push", "refs/heads/develop", "--source", str(COAGENT)]) == 0
    out = capsys.readouterr().out
    assert "stages       ci, security, validate-infra, package, deploy" in out and "environment  dev" in out


@pytest.mark.parametrize("tag", ["v1.2", "rc-1.2.0.x", "v01.2.3"])
def test_bayon_route_exits_2_on_a_malformed_tag_with_one_line(tag: str, capsys: pytest.CaptureFixture[str]):
    assert main(["route", "--source", str(COAGENT), "--event", "push", "--ref", f"refs/tags/{tag}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith(f"bayon: tag {tag}: ")


def test_bayon_route_refuses_another_format(capsys: pytest.CaptureFixture[str]):
    assert main(["route", "--source", str(COAGENT), "push", "refs/heads/main", "--format", "markdown"]) == 2
    assert "route prints table or json" in capsys.readouterr().err


def test_the_dagger_face_routes_through_the_same_runner(monkeypatch: pytest.MonkeyPatch):
    """Offline: the executor reads the sample app's files from disk; the function returns the same JSON and fails
    with the same usage error."""
    async def read(self, path: str) -> str | None:
        file = COAGENT / path
        return file.read_text() if file.is_file() else None

    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    out = asyncio.run(Ci().route(source=dag.directory(), event="push", ref="refs/tags/v2.0.0", format="json"))
    assert json.loads(out)["environment"] == "production" and json.loads(out)["stages"] == RELEASE
    with pytest.raises(UsageError, match="^tag v2.0: not a release tag"):
        asyncio.run(Ci().route(source=dag.directory(), event="push", ref="refs/tags/v2.0"))


def test_route_and_init_plan_no_step():
    for function in ("route", "init"):
        assert run_local(lambda executor: runner.plan(function, executor), COAGENT) == "[]\n"
