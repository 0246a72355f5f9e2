"""The integration-test stage: its step and moto service, their Dagger wiring (offline), and real runs of Jest against
a real moto_server through the local executor."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from chain import bound_service, fields, find
from apps import FIXTURES, copy_app, run_local
from dagger import dag

from ci.pipeline import runner
from ci.stages.tests import integration
from ci.stages.tests import jest
from ci.cli.app import main
from ci.config import load_config
from ci.executors.dagger import DaggerExecutor
from ci.core.step import StepRun

HASH = "0123456789abcdef" + "f" * 48
ROOT = "/src"
PLANTED = """/** @jest-environment node */
describe("planted", () => {
  it("fails on purpose", () => {
    const answer = 41;
    expect(answer).toBe(42);
  });
});
"""


def the_step(yaml: str = ""):
    (step,) = integration.steps(load_config(yaml))
    return step


# The step and its judge

def test_the_step_runs_the_configured_jest_config_against_moto():
    step = the_step("tests:\n  integration:\n    config: it.config.mjs\n    emulator_image: motoserver/moto:5.1.22\n")
    assert (step.id, step.tool, step.package) == ("tests/integration", "jest", "jest")
    assert step.argv[:3] == ("node_modules/.bin/jest", "-c", "it.config.mjs")
    assert "--outputFile={reports}/jest-results.json" in step.argv
    assert "--reporters={tools}/junit-reporter.cjs" in step.argv  # the pipeline's own reporter (was jest-junit)
    assert step.outputs == (jest.RESULTS, jest.JUNIT) and step.judge is jest.judge
    assert {k: step.env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")} == {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    (moto,) = step.services
    assert (moto.name, moto.image, moto.port, moto.url_env) == ("moto", "motoserver/moto:5.1.22", 5000,
                                                                "AWS_ENDPOINT_URL")
    assert moto.args == ("-H", "0.0.0.0", "-p", "5000")
    assert moto.local_argv == ("moto_server", "-H", "127.0.0.1", "-p", "{port}")


def test_turned_off_it_has_no_step():
    assert integration.steps(load_config("tests:\n  integration:\n    enabled: false\n")) == []


def test_a_failed_integration_test_is_a_finding_at_its_line():
    results = (FIXTURES / "jest" / "integration-failures.json").read_text().replace("<ROOT>", ROOT).encode()
    judgement = the_step().judge(StepRun(exit_code=1, files={jest.RESULTS: results, jest.JUNIT: b"<x/>"}, root=ROOT))
    assert judgement.status == "failed"
    assert [(f.rule, f.file, f.line) for f in judgement.findings] == [
        ("jest/failed-test", "backend/integration/planted.integration.test.mjs", 5),
        ("jest/suite-failed", "backend/integration/broken.integration.test.mjs", 5),
    ]


# Dagger wiring, offline: the service binding the tests reach moto through

def test_moto_is_a_service_container_bound_as_moto_with_its_url():
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    ctr = executor.step_container(executor.install_container(22), the_step(), HASH)
    binding, service = bound_service(ctr, "moto")
    assert service == [
        ("container", {}),
        ("from", {"address": "motoserver/moto:5.1.4"}),
        ("withExposedPort", {"port": 5000}),
        ("asService", {"args": ["-H", "0.0.0.0", "-p", "5000"], "useEntrypoint": True}),
    ]
    env = {f.args["name"]: f.args["value"] for f in find(ctr, "withEnvVariable")}
    assert env["AWS_ENDPOINT_URL"] == "http://moto:5000" and env["AWS_REGION"] == "us-east-1"
    assert env["JEST_JUNIT_OUTPUT_DIR"] == "/bayon/reports/tests-integration"
    last = fields(ctr)[-1]
    assert binding < len(fields(ctr)) - 1 and last.name == "withExec" and last.args["expect"] == "ANY"
    assert "--outputFile=/bayon/reports/tests-integration/jest-results.json" in last.args["args"]


# Real Jest against a real moto_server, through the local executor

@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory):
    app = copy_app(tmp_path_factory.mktemp("integration") / "coagent")
    return run_local(lambda executor: runner.gate("integration_tests", executor), app)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    app = copy_app(tmp_path_factory.mktemp("integration-planted") / "coagent")
    (app / "backend" / "integration" / "planted.integration.test.mjs").write_text(PLANTED)
    return run_local(lambda executor: runner.gate("integration_tests", executor), app)


@pytest.mark.tools
def test_the_sample_apps_integration_tests_pass_against_moto(clean):
    step = next(s for s in clean.steps if s.id == "tests/integration")
    assert clean.passed and step.status == "passed", step.reason
    assert step.reason.startswith("4 of 4 test(s) passed") and step.tool_version
    (moto,) = step.services  # the moto_server that ran: PATH's first, else beside this Python (any 5.x)
    assert moto["name"] == "moto" and re.fullmatch(r"5\.\d+\.\d+", moto["version"]), step.services
    assert {"tests/integration/jest-results.json", "tests/integration/junit.xml"} <= set(clean.artifacts)


@pytest.mark.tools
def test_a_planted_failing_test_fails_the_gate_at_its_file_and_line(planted):
    assert not planted.passed
    (found,) = planted.findings
    assert (found.step, found.rule, found.file, found.line) == (
        "tests/integration", "jest/failed-test", "backend/integration/planted.integration.test.mjs", 5)
    assert found.message.startswith("planted fails on purpose: ")
    step = next(s for s in planted.steps if s.id == "tests/integration")
    assert step.status == "failed" and "4 of 5 test(s) passed" in step.reason  # the real tests still ran


@pytest.mark.tools
def test_moto_failing_to_start_is_a_clear_error_and_exit_3(monkeypatch, tmp_path: Path, capsys):
    dead = replace(integration.moto("motoserver/moto:5.1.4"),
                   local_argv=("sh", "-c", "echo 'port {port} is taken' >&2; exit 7"))
    monkeypatch.setattr(integration, "moto", lambda image: dead)
    started = time.monotonic()
    assert main(["integration-tests", "--source", str(copy_app(tmp_path / "coagent"))]) == 3
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("bayon: could not start moto (`sh -c echo 'port ") and "exited with code 7" in err
    assert "is taken" in err and time.monotonic() - started < 30

