"""The app's setup in Dagger, offline on the real dagger-io objects: the install env on the install layer, one exec
layer per setup command between the source and the steps, and a failing command reported as its own step."""

from __future__ import annotations

from types import SimpleNamespace

import dagger
import pytest
from chain import fields, find, index, names
from dagger import dag
from dagger._exceptions import QueryErrorValue

from ci.core.executor import Setup
from ci.core.step import Judgement, Step
from ci.executors.dagger import SOURCE_EXCLUDES, DaggerExecutor

HASH = "0123456789abcdef" + "f" * 48
NPM_CI = ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"]
SETUP = Setup(env={"PUPPETEER_SKIP_DOWNLOAD": "1", "CYPRESS_INSTALL_BINARY": "0"},
              commands=("npm ci --prefix backend/src", "npx prisma generate"))


def step(**overrides) -> Step:
    values = dict(id="quality/lint", tool="eslint", judge=lambda run: Judgement("passed"), argv=("eslint", "."))
    return Step(**{**values, **overrides})


def executor() -> DaggerExecutor:
    return DaggerExecutor(dag.host().directory("examples/coagent"))


def test_the_install_env_is_set_on_the_install_layer_before_npm_ci():
    ctr = executor().install_container(22, env=SETUP.env)
    npm_ci = index(ctr, "withExec", args=NPM_CI)
    for name, value in SETUP.env.items():
        (at,) = [i for i, f in enumerate(fields(ctr)) if f.name == "withEnvVariable" and f.args["name"] == name]
        assert fields(ctr)[at].args["value"] == value
        assert index(ctr, "withFile", path="/src/package-lock.json") < at < npm_ci  # part of the install's key
    without = executor().install_container(22)
    assert not find(without, "withEnvVariable", name="PUPPETEER_SKIP_DOWNLOAD") and without != ctr


def test_each_setup_command_is_an_exec_after_the_source_and_before_the_step():
    ex = executor()
    ctr = ex.installed_step(step(), HASH, setup=SETUP)
    source = index(ctr, "withDirectory", path="/src")
    first = index(ctr, "withExec", args=["sh", "-c", "npm ci --prefix backend/src"])
    second = index(ctr, "withExec", args=["sh", "-c", "npx prisma generate"])
    step_exec = index(ctr, "withExec", args=["eslint", "."], expect="ANY")
    assert index(ctr, "withExec", args=NPM_CI) < source < first < second < step_exec
    assert fields(ctr)[first - 1].args == {"path": "/src"}  # in the app directory
    # Without setup the chain is the one steps always had: no extra layer.
    plain = ex.installed_step(step(), HASH)
    assert names(plain) == names(ex.step_container(ex.install_container(22), step(), HASH))
    assert not find(plain, "withExec", args=["sh", "-c", "npx prisma generate"])


def test_a_fixers_changes_are_against_the_source_as_the_setup_left_it():
    ex = executor()
    fixer = step(id="quality/lint-fix", argv=("eslint", ".", "--fix"), writes_source=True)
    changes = ex.changeset(fixer, HASH, setup=SETUP)
    before = fields(changes)[-1].args["from"]
    assert names(before)[-2:] == ["directory", "filter"] and fields(before)[-1].args == {"exclude": SOURCE_EXCLUDES}
    assert find(before, "withExec", args=["sh", "-c", "npx prisma generate"])  # what setup generated is no fix
    assert not find(before, "withExec", args=["eslint", ".", "--fix"])


def exec_error(command: list[str], code: int, stderr: str) -> dagger.ExecError:
    value = QueryErrorValue("exec failed", extensions={"_type": "EXEC_ERROR", "cmd": command, "exitCode": code,
                                                       "stdout": "", "stderr": stderr})
    return dagger.ExecError([value], SimpleNamespace(document=""))


@pytest.mark.anyio
async def test_a_failing_setup_command_is_a_crashed_step_with_its_own_error_lines(monkeypatch):
    ex = executor()

    async def lock_inputs():
        return HASH, False

    async def sync(self):  # the engine's answer: the first command passes, the second exits 1
        last = [f.args["args"] for f in fields(self) if f.name == "withExec"][-1]
        if last == ["sh", "-c", "npx prisma generate"]:
            raise exec_error(last, 1, "npm notice\nError: Could not find a schema.prisma file\n")
        return self

    monkeypatch.setattr(ex, "_read_lock_inputs", lock_inputs)
    monkeypatch.setattr(dagger.Container, "sync", sync)
    assert (await ex.install(22, SETUP)).status == "passed"
    first, second = await ex.run_setup(22, SETUP)
    assert (first.id, first.status) == ("setup/commands/0/node22", "passed")
    assert (second.id, second.tool, second.status, second.exit_code) == ("setup/commands/1/node22", "sh", "crashed", 1)
    assert second.reason == ("`sh -c npx prisma generate` exited with code 1:\n"
                             "npm notice\nError: Could not find a schema.prisma file")
    assert await ex.run_setup(22, SETUP) == (first, second)  # once per major
    base = ex._installs[22][1]  # what steps would start from: the last layer that passed
    assert [f.args["args"] for f in fields(base) if f.name == "withExec"][-1] == ["sh", "-c", "npm ci --prefix backend/src"]
