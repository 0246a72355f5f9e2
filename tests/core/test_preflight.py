"""Preflight: a tool the app does not depend on, or a config file it does not have, is named before anything runs."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from ci.config import load_config
from ci.core import preflight
from ci.core.report import StepResult
from ci.core.scheduler import run_steps
from ci.core.step import Judgement, Step, StepRun
from ci.pipeline.registry import STAGES
from ci.stages.quality import stage as quality
from ci.stages.tests import integration
from ci.stages.tests import jest as jest_tool

ONLY_JEST = json.dumps({"name": "app", "devDependencies": {"jest": "30.5.2"}})


class AppFiles:
    """An executor over planted app files; every step it runs exits 0 with nothing to judge."""

    name = "files"

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.ran: list[str] = []

    async def read_source_file(self, path: str) -> str | None:
        return self.files.get(path)

    def unavailable_reason(self, step: Step) -> None:
        return None

    async def install(self, major: int, setup=None) -> StepResult:
        return StepResult(f"setup/install/node{major}", "npm", "passed")

    async def run(self, step: Step) -> StepRun:
        self.ran.append(step.id)
        return StepRun(exit_code=0)


def passed(run: StepRun) -> Judgement:
    return Judgement("passed", reason="ran")


def test_the_declared_packages_are_those_npm_installs():
    manifest = {"dependencies": {"next": "16"}, "devDependencies": {"jest": "30"}, "optionalDependencies": {"x": "1"},
                "peerDependencies": {"react": "19"}, "engines": {"node": ">=22"}}
    assert preflight.declared(json.dumps(manifest)) == {"next", "jest", "x"}
    assert preflight.declared("{broken") == frozenset() and preflight.declared("[]") == frozenset()


def test_an_undeclared_tool_is_crashed_with_the_fix_and_an_undeclared_prettier_is_skipped():
    steps = {s.id: s for s in quality.steps(load_config(None))}
    verdicts = {i: preflight.verdict(s, {"jest"}, ()) for i, s in steps.items()}
    assert verdicts["quality/lint"] == Judgement(
        "crashed", reason="eslint is not a dependency of the app: add it to devDependencies or set quality.lint: false")
    assert verdicts["quality/typecheck"] == Judgement(
        "crashed", reason="typescript is not a dependency of the app: add it to devDependencies or set "
                          "quality.typecheck: false")
    assert verdicts["quality/format"] == Judgement("skipped", reason="prettier is not a dependency of the app")
    assert all(preflight.verdict(s, {"eslint", "typescript", "prettier"}, ()) is None for s in steps.values())
    assert all(preflight.verdict(s, None, ()) is None for s in steps.values())  # no package.json: the install says


def test_next_and_jest_name_their_own_fix():
    config = load_config(None)
    (build,) = STAGES["build"].steps(config)
    assert preflight.verdict(build, {"jest"}, ()).reason == ("next is not a dependency of the app: add it to "
                                                             "dependencies")
    unit = STAGES["unit_tests"].steps(config)
    assert {preflight.verdict(s, set(), ()).reason for s in unit} == {
        "jest is not a dependency of the app: add it to devDependencies or set tests.unit: false"}
    (suite,) = integration.steps(config)
    assert preflight.verdict(suite, set(), {"jest.integration.config.mjs"}).reason == (
        "jest is not a dependency of the app: add it to devDependencies or set tests.integration.enabled: false")


def test_an_app_without_an_integration_config_has_its_suite_skipped_with_the_reason():
    (suite,) = integration.steps(load_config("tests:\n  integration:\n    config: it.config.js\n"))
    assert preflight.verdict(suite, {"jest"}, ()) == Judgement(
        "skipped", reason="the app has no it.config.js (tests.integration.config): nothing to run")
    assert preflight.verdict(suite, {"jest"}, {"it.config.js"}) is None


def test_the_scheduler_reports_what_preflight_decided_and_runs_the_rest():
    jest = replace(jest_tool.step("tests/unit/node22", 22), judge=passed)
    (lint,) = quality.lint(load_config(None))
    (fmt,) = quality.format_check(load_config(None))
    executor = AppFiles({"package.json": ONLY_JEST})
    report = asyncio.run(run_steps("ci", executor, [lint, fmt, jest]))
    statuses = {s.id: (s.status, s.reason) for s in report.steps}
    assert executor.ran == ["tests/unit/node22"]  # neither eslint nor prettier was started
    assert statuses["quality/lint"][0] == "crashed" and statuses["quality/format"][0] == "skipped"
    assert statuses["tests/unit/node22"] == ("passed", "ran")
    assert not report.passed  # a configured check that cannot run never passes


@pytest.mark.parametrize(("yaml", "present", "problem"), [
    ("tests:\n  integration:\n    enabled: true\n", False,
     "tests.integration.enabled is true but the app has no jest.integration.config.mjs (tests.integration.config); "
     "add it, point tests.integration.config at the app's integration Jest config, or set "
     "tests.integration.enabled: false"),
    ("tests:\n  integration:\n    enabled: true\n", True, None),
    ("tests:\n  shards: 2\n", False, None),  # left at its default, a missing config only skips the suite
    ("tests:\n  integration:\n    enabled: false\n", False, None),
])
def test_an_integration_suite_turned_on_explicitly_must_exist(yaml: str, present: bool, problem: str | None):
    assert integration.missing_config(load_config(yaml), present) == problem
