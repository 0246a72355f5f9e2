"""`run_steps`: concurrency, installs per Node major, and one failure never hiding another (a scripted executor)."""

from __future__ import annotations

import asyncio

import pytest

from ci.core.errors import CouldNotRun
from ci.core.executor import Setup, install_id, setup_id
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

    async def install(self, major: int, setup=None) -> StepResult:
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


class Failing(Scripted):
    """An install that takes a while and then fails: crashes with a coloured reason, or raises (it must not)."""

    def __init__(self, raises: bool):
        super().__init__({})
        self.raises = raises

    async def install(self, major: int, setup=None) -> StepResult:
        await asyncio.sleep(0.2)
        if self.raises:
            raise RuntimeError("install exploded")
        return StepResult(install_id(major), "npm", "crashed", exit_code=1, duration_s=0.2, started_s=0.01,
                          reason="`npm ci` exited with code 1: \x1b[31mERESOLVE\x1b[39m could not resolve")


@pytest.mark.parametrize("raises", [False, True])
def test_a_failed_install_keeps_its_duration_and_names_itself_in_every_step_it_kept_from_running(raises: bool):
    report = run(Failing(raises), [step("quality/lint"), step("tests/unit/node22")])
    install, *steps = report.steps
    assert (install.id, install.status) == ("setup/install/node22", "crashed") and install.duration_s >= 0.2
    assert install.reason == ("RuntimeError: install exploded" if raises
                              else "`npm ci` exited with code 1: ERESOLVE could not resolve")
    assert [(s.status, s.blocked_by) for s in steps] == [("skipped", "setup/install/node22")] * 2
    assert steps[0].to_json()["blocked_by"] == "setup/install/node22"
    assert "blocked_by" not in install.to_json()


def test_escapes_are_stripped_from_reasons_and_finding_messages():
    """Real sequences: Jest's bold/red (CSI), a link (OSC 8) as terminals print it, a reset with a charset (ESC ( B)."""

    def coloured(run: StepRun) -> Judgement:
        if run.exit_code == 0:
            return Judgement("passed", reason="\x1b[1mTests:\x1b[22m \x1b[1m\x1b[32m3 passed\x1b[39m\x1b[22m")
        found = Finding("", "", "jest/failed-test", "error", "a.test.ts", 3, None,
                        "\x1b[1m\x1b[31m● \x1b[22m\x1b[39madds › \x1b]8;;file:///src/a.test.ts\x1b\\a.test.ts\x1b]8;;\x1b\\")
        return Judgement("failed", (found,), "\x1b[31m1 failed\x1b(B\x1b[m")

    def crashed(run: StepRun) -> Judgement:
        raise AssertionError("not judged: exit code 7 is not declared")

    def aggregate(report):
        return (StepResult("tests/coverage", "coverage", "passed", reason="\x1b[32mlines 100%\x1b[39m"),
                (Finding("tests/coverage", "coverage", "c", "info", None, None, None, "\x1b[2mdim\x1b[22m"),))

    steps = [Step(id=i, tool="jest", argv=("true",), judge=j) for i, j in
             (("tests/a", coloured), ("tests/b", coloured), ("tests/c", crashed))]
    executor = Scripted({"tests/a": 0, "tests/b": 1, "tests/c": 7})

    async def run_coloured(step: Step) -> StepRun:  # a tool that prints colours on stderr when it crashes
        code = executor.script[step.id]
        return StepRun(exit_code=code, stderr="\x1b[31mError:\x1b[39m boom" if code == 7 else "")

    executor.run = run_coloured
    report = asyncio.run(run_steps("unit_tests", executor, steps, aggregates=[aggregate]))
    reasons = {s.id: s.reason for s in report.steps}
    assert reasons["tests/a"] == "Tests: 3 passed" and reasons["tests/b"] == "1 failed"
    assert reasons["tests/c"] == "jest exited with code 7:\nError: boom"
    assert reasons["tests/coverage"] == "lines 100%"
    assert [f.message for f in report.findings] == ["● adds › a.test.ts", "dim"]
    assert [(f.step, f.tool) for f in report.findings] == [("tests/b", "jest"), ("tests/coverage", "coverage")]


class WithSetup(Scripted):
    """A scripted executor whose setup commands fail when they say `exit 1`."""

    def __init__(self):
        super().__init__({})
        self.setups: list[tuple[int, Setup]] = []

    async def run_setup(self, major: int, setup: Setup) -> tuple[StepResult, ...]:
        self.setups.append((major, setup))
        return tuple(StepResult(setup_id(i, major), "sh", "crashed" if "exit 1" in c else "passed")
                     for i, c in enumerate(setup.commands))


def test_setup_commands_run_once_per_major_after_the_install_and_a_failed_one_skips_its_steps():
    executor = WithSetup()
    setup = Setup(commands=("true", "exit 1"))
    report = asyncio.run(run_steps("ci", executor, [step("quality/lint"), step("quality/format")], setup=setup))
    assert executor.setups == [(22, setup)]
    assert [s.id for s in report.steps][:3] == ["setup/install/node22", "setup/commands/0/node22",
                                                "setup/commands/1/node22"]
    statuses = {s.id: (s.status, s.reason) for s in report.steps}
    assert statuses["quality/lint"] == ("skipped", "setup command failed (setup/commands/1/node22)")
    assert statuses["quality/format"][0] == "skipped" and not report.passed
    plain = WithSetup()  # no setup commands: run_setup is never called
    assert asyncio.run(run_steps("ci", plain, [step("quality/lint")])).passed and plain.setups == []
