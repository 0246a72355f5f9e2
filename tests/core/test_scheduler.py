"""`run_steps`: concurrency, installs per Node major, and one failure never hiding another (a scripted executor)."""

from __future__ import annotations

import asyncio

import pytest

from ci.core.errors import CouldNotRun
from ci.core.executor import install_id
from ci.core.scheduler import run_steps
from ci.core.report import Finding, StepResult
from ci.core.step import Judgement, Step, StepRun


def judge(run: StepRun) -> Judgement:
    if run.exit_code == 1:
        return Judgement("failed", (Finding("", "", "rule", "error", "a.ts", 1, 1, run.stdout),), "1 error(s)")
    return Judgement("passed", reason="clean")


def step(id: str, major: int = 22) -> Step:
    return Step(id=id, tool=id.split("/")[-1], argv=("true",), judge=judge, node_major=major)


class Scripted:
    """An executor whose runs are scripted per step id: an exit code, a delay, an exception to raise, or the run."""

    name = "scripted"

    def __init__(self, script: dict[str, object], install_delay: dict[int, float] | None = None):
        self.script = script
        self.install_delay = install_delay or {}
        self.installs: list[int] = []
        self.started: dict[str, float] = {}

    async def read_source_file(self, path):
        return None

    def unavailable_reason(self, step):
        return None

    async def install(self, major: int) -> StepResult:
        self.installs.append(major)
        await asyncio.sleep(self.install_delay.get(major, 0))
        if major == 0:
            raise RuntimeError("install exploded\nsecond line")
        return StepResult(install_id(major), "npm", "passed", duration_s=0.01)

    async def run(self, step: Step) -> StepRun:
        self.started[step.id] = asyncio.get_running_loop().time()
        outcome = self.script.get(step.id, 0)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, StepRun):
            return outcome
        if isinstance(outcome, float):
            await asyncio.sleep(outcome)
            outcome = 0
        return StepRun(exit_code=outcome, stdout=f"{step.id} says no", duration_s=0.01, started_s=0.01)


def run(executor, steps):
    return asyncio.run(run_steps("ci", executor, steps))


def test_a_step_whose_executor_raised_crashes_alone_and_the_others_finish():
    executor = Scripted({"quality/lint": RuntimeError("engine went away\ntraceback..."), "quality/format": 1,
                         "tests/unit/node22": 0.2})
    report = run(executor, [step("quality/lint"), step("quality/format"), step("tests/unit/node22")])
    statuses = {s.id: (s.status, s.reason) for s in report.steps}
    assert statuses["quality/lint"] == ("crashed", "RuntimeError: engine went away")
    assert statuses["quality/format"] == ("failed", "1 error(s)")  # its findings are not hidden by the crash
    assert statuses["tests/unit/node22"] == ("passed", "clean")  # the slow sibling was not cancelled
    assert [f.message for f in report.findings] == ["quality/format says no"]
    assert not report.passed


def test_a_missing_tool_ends_the_run_with_its_own_error_not_an_exception_group():
    executor = Scripted({"tests/integration": CouldNotRun("could not start moto: `moto_server` is not installed"),
                         "quality/lint": 0.5})
    with pytest.raises(CouldNotRun, match="could not start moto"):
        run(executor, [step("quality/lint"), step("tests/integration")])


def test_each_major_installs_once_and_concurrently_and_its_steps_start_when_it_is_done():
    executor = Scripted({}, install_delay={20: 0.3, 22: 0.0})
    report = run(executor, [step("tests/unit/node20", 20), step("quality/lint", 22), step("tests/unit/node22", 22),
                            step("quality/format", 22)])
    assert sorted(executor.installs) == [20, 22]  # once per major, however many steps need it
    assert executor.started["quality/lint"] < executor.started["tests/unit/node20"]  # did not wait for node20
    assert [s.id for s in report.steps][:2] == ["setup/install/node20", "setup/install/node22"]
    assert report.passed


def test_an_install_that_raised_crashes_and_its_steps_are_skipped():
    report = run(Scripted({}), [step("quality/lint", 0), step("quality/format", 22)])
    statuses = {s.id: (s.status, s.reason) for s in report.steps}
    assert statuses[install_id(0)] == ("crashed", "RuntimeError: install exploded")
    assert statuses["quality/lint"] == ("skipped", "dependency install failed (setup/install/node0)")
    assert statuses["quality/format"][0] == "passed"
    assert not report.passed


def test_the_services_an_executor_started_are_on_the_steps_result():
    moto = {"name": "moto", "image": "motoserver/moto:5.1.4"}
    report = run(Scripted({"tests/integration": StepRun(exit_code=0, services=(moto,))}),
                 [step("tests/integration"), step("quality/lint")])
    results = {s.id: s for s in report.steps}
    assert results["tests/integration"].services == (moto,)
    assert results["quality/lint"].services == ()
