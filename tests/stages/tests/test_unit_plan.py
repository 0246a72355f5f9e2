"""Offline Dagger plans of the unit-test matrix (real dagger-io objects, no engine): one container per Node major and
shard, each on its major's image with its own install layer, the shard argument, the reports directory and
`expect=ANY`."""

from __future__ import annotations

import dagger
import pytest
from chain import fields, find, index, render
from dagger import dag

from ci.stages.tests import unit as unit_tests
from ci.config import ConfigError, load_config
from ci.core.executor import tool_script
from ci.executors.dagger import DaggerExecutor
from ci.stages.tests.unit import Shard



def containers(yaml: str, only: Shard | None = None) -> dict[str, dagger.Container]:
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    return {step.id: executor.step_container(executor.install_container(step.node_major), step)
            for step in unit_tests.steps(load_config(yaml), only)}


def exec_args(ctr: dagger.Container) -> list[str]:
    last = fields(ctr)[-1]
    assert last.name == "withExec" and last.args["expect"] == "ANY"
    return last.args["args"]


def test_one_container_per_major_on_its_own_image_and_install():
    plans = containers("tests:\n  node_versions: [18, 20, 22]\n")
    assert list(plans) == ["tests/unit/node18", "tests/unit/node20", "tests/unit/node22"]
    for major in (18, 20, 22):
        ctr = plans[f"tests/unit/node{major}"]
        assert fields(ctr)[1].args == {"address": f"node:{major}-bookworm-slim"}
        cache = find(ctr, "withMountedCache", path="/bayon/npm-cache")[0].args["cache"]
        assert render(cache) == f"cacheVolume(key: 'bayon-npm-node{major}')"  # issue 8: by Node major only
        argv = exec_args(ctr)
        assert argv[0] == "node_modules/.bin/jest" and not any(a.startswith("--shard") for a in argv)
        assert fields(ctr)[-2].args == {"path": "/src"}  # jest runs at the source root


def test_reports_go_to_the_steps_own_directory_outside_the_source():
    ctr = containers("tests:\n  node_versions: [22]\n")["tests/unit/node22"]
    reports = "/bayon/reports/tests-unit-node22"
    argv = exec_args(ctr)
    assert f"--coverageDirectory={reports}" in argv and f"--outputFile={reports}/jest-results.json" in argv
    assert "{reports}" not in " ".join(argv)
    env = {f.args["name"]: f.args["value"] for f in find(ctr, "withEnvVariable")}
    assert env["JEST_JUNIT_OUTPUT_DIR"] == reports and env["JEST_JUNIT_OUTPUT_NAME"] == "junit.xml"
    assert index(ctr, "withDirectory", path=reports) > index(ctr, "withDirectory", path="/src")


def test_shards_are_containers_of_their_own_with_the_shard_argument():
    plans = containers("tests:\n  node_versions: [22, 24]\n  shards: 2\n")
    assert list(plans) == [f"tests/unit/node{m}/shard{i}of2" for m in (22, 24) for i in (1, 2)]
    for step_id, ctr in plans.items():
        shard = step_id[-len("1of2"):].replace("of", "/")
        assert exec_args(ctr)[-2:] == [f"--shard={shard}", "--passWithNoTests"]
        assert find(ctr, "withDirectory", path=f"/bayon/reports/{step_id.replace('/', '-')}")


def test_a_single_shard_of_the_matrix():
    plans = containers("tests:\n  node_versions: [22, 24]\n  shards: 4\n", Shard(3, 4))
    assert list(plans) == ["tests/unit/node22/shard3of4", "tests/unit/node24/shard3of4"]
    assert {tuple(exec_args(c)[-2:]) for c in plans.values()} == {("--shard=3/4", "--passWithNoTests")}


@pytest.mark.parametrize("yaml", ["tests:\n  node_versions: [20, 22, 24]\n  shards: 3\n", None])
def test_two_plans_for_the_same_inputs_are_equal(yaml: str | None):
    first, second = containers(yaml), containers(yaml)
    assert first == second
    assert [render(c) for c in first.values()] == [render(c) for c in second.values()]


def test_the_junit_reporter_is_the_pipelines_own_script_in_the_tools_directory():
    ctr = containers("tests:\n  node_versions: [22]\n")["tests/unit/node22"]
    (script,) = find(ctr, "withNewFile", path="/bayon/tools/junit-reporter.cjs")
    assert script.args["contents"] == tool_script("junit-reporter.cjs")
    assert "--reporters=/bayon/tools/junit-reporter.cjs" in exec_args(ctr)
    assert index(ctr, "withNewFile", path="/bayon/tools/junit-reporter.cjs") < len(fields(ctr)) - 1  # before the exec


def test_tests_unit_false_turns_the_stage_and_its_coverage_gate_off():
    """An app whose unit tests are not Jest's (Vitest, none) says so; the ci report then shows the stage skipped."""
    from ci.pipeline.registry import STAGES

    off = load_config("tests:\n  unit: false\n")
    assert STAGES["unit_tests"].steps(off) == [] and STAGES["unit_tests"].aggregates(off) == []
    on = load_config(None)
    assert STAGES["unit_tests"].steps(on) and len(STAGES["unit_tests"].aggregates(on)) == 1
    with pytest.raises(ConfigError, match=r"pipeline.yaml:2: tests.unit must be true or false"):
        load_config("tests:\n  unit: no\n")
