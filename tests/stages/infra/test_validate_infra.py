"""validate-infra for real: cfn-lint 1.58.0 and SAM CLI 1.170.0 run by the local executor on the sample's template and
on tests/fixtures/infra/app (a broken template, one that crashes cfn-lint, stateful resources), with AWS credentials
planted in the host environment; the plan, and the Dagger chain offline."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import dagger
import pytest
from apps import COAGENT, FIXTURES, run_local
from chain import fields, find, index, render
from dagger import dag
from dagger._exceptions import QueryErrorValue

from ci import Ci
from ci.cli.app import main
from ci.config import load_config
from ci.core.errors import UsageError
from ci.core.scheduler import run_steps
from ci.core.sources import SOURCE_IGNORE
from ci.core.step import Judgement
from ci.executors.dagger import DaggerExecutor
from ci.executors.local.tools import find as find_tool
from ci.main import GateFailed
from ci.output.render import dumps, render as render_report
from ci.pipeline import runner
from ci.stages.infra import cfn_lint, sam_validate, stage

PLANTED = {"AWS_ACCESS_KEY_ID": "AKIAPLANTED0000000000", "AWS_SECRET_ACCESS_KEY": "planted-s3cr3t-aws-value",
           "AWS_SESSION_TOKEN": "planted-session-token", "AWS_PROFILE": "planted-profile",
           "AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3"}
"""What a developer's shell may hold: none of it may reach the steps (the regions would hide a missing --region)."""
INFRA = FIXTURES / "infra"
TEMPLATES = ["backend/broken.yaml", "backend/crashes.yaml", "backend/template.yaml", "stateful/template.yaml"]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    """The fixture app with the sample's template beside its own."""
    root = tmp_path_factory.mktemp("infra") / "app"
    shutil.copytree(INFRA / "app", root)
    shutil.copy(COAGENT / "backend" / "template.yaml", root / "backend" / "template.yaml")
    return root


@pytest.fixture(scope="module")
def report(app: Path):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in PLANTED.items():
            patch.setenv(name, value)
        return run_local(lambda executor: runner.reports("validate-infra", executor), app)


def result(report, step_id: str):
    return next(s for s in report.steps if s.id == step_id)


def located(report, step_id: str) -> list[tuple[str, int | None]]:
    return [(f.rule, f.line) for f in report.findings if f.step == step_id]


def test_every_template_found_gets_its_own_cfn_lint_and_sam_validate(report):
    assert [s.id for s in report.steps] == [cfn_lint.step_id(t) for t in TEMPLATES] + [
        sam_validate.step_id(t) for t in TEMPLATES]
    assert report.stages == {"validate_infra": tuple(s.id for s in report.steps)}
    assert {(s.tool, s.tool_version) for s in report.steps if s.status != "crashed"} == {
        ("cfn-lint", "1.58.0"), ("sam", "1.170.0")}


def test_the_sample_template_is_valid_and_warned_of_its_table_and_bucket(report):
    lint, sam = result(report, "infra/cfn-lint/backend/template.yaml"), result(report,
                                                                                "infra/sam-validate/backend/template.yaml")
    # rule ids asserted, never "clean": cfn-lint's deprecation rules (W2531 ...) depend on the date, so other warnings
    # may join these one day; an error would not (the gate would fail), nor would exit codes other than warnings'
    assert (lint.status, sam.status) == ("passed", "passed") and lint.exit_code in (4, 12)
    assert {("I3011", 49), ("W9011", 60)} <= set(located(report, lint.id))
    assert {f.severity for f in report.findings if f.step == lint.id} == {"warning"}


def test_the_planted_unknown_properties_are_e3002_at_their_lines_and_sams_error(report):
    assert result(report, "infra/cfn-lint/backend/broken.yaml").status == "failed"
    assert located(report, "infra/cfn-lint/backend/broken.yaml") == [("E3002", 11), ("E3002", 18)]
    (sam,) = [f for f in report.findings if f.step == "infra/sam-validate/backend/broken.yaml"]
    assert (sam.rule, sam.file) == ("sam/invalid-template", "backend/broken.yaml")
    assert sam.message.startswith("ListingsFunction: property Bogus not defined")


def test_the_template_that_crashes_cfn_lint_is_crashed_and_the_others_are_still_judged(report):
    crashed = result(report, "infra/cfn-lint/backend/crashes.yaml")
    assert (crashed.status, crashed.exit_code) == ("crashed", 32)
    assert "Regions ['us-esat-1'] are unsupported" in crashed.reason
    assert result(report, "infra/sam-validate/backend/crashes.yaml").status == "passed"
    assert located(report, "infra/cfn-lint/stateful/template.yaml") == [("W9011", 5), ("W9011", 5), ("W9011", 9),
                                                                        ("W9011", 11), ("W9011", 11)]
    assert not report.passed
    assert {k for k in report.artifacts} == {f"{cfn_lint.step_id(t)}/{cfn_lint.REPORT}" for t in TEMPLATES
                                             if t != "backend/crashes.yaml"}


def test_in_one_process_that_template_would_have_lost_every_other_templates_findings(app: Path):
    """Why one process per template: cfn-lint 1.58 given both exits 32 and reports nothing at all."""
    out = subprocess.run([find_tool("cfn-lint"), "--format", "json", "--", "backend/template.yaml",
                          "backend/crashes.yaml"], cwd=app, capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1"})
    assert (out.returncode, out.stdout) == (32, "")


def test_no_planted_credential_is_in_the_report(report):
    text = dumps(report) + render_report(report, "markdown") + "".join(
        data.decode(errors="replace") for data in report.artifacts.values())
    assert not [name for name, value in PLANTED.items() if value in text and not name.endswith("REGION")]


def _run_alone(app: Path, step, monkeypatch: pytest.MonkeyPatch, home: Path):
    """One step run by the local executor with credentials in the host's environment and in a home's ~/.aws."""
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-3\n")
    (home / ".aws" / "credentials").write_text(f"[default]\naws_access_key_id = {PLANTED['AWS_ACCESS_KEY_ID']}\n"
                                               f"aws_secret_access_key = {PLANTED['AWS_SECRET_ACCESS_KEY']}\n")
    for name, value in {**PLANTED, "HOME": str(home)}.items():
        monkeypatch.setenv(name, value)
    report = run_local(lambda executor: run_steps("validate_infra", executor, [step]), app)
    return report, report.steps[0]


def test_the_sam_step_sees_no_aws_variable_of_the_host(app: Path, monkeypatch, tmp_path: Path):
    (sam,) = sam_validate.steps(load_config(None), ["backend/template.yaml"])
    report, env = _run_alone(app, replace(sam, argv=("sh", "-c", "env > \"$0\"/env.txt", "{reports}"),
                                          outputs=("env.txt",), judge=lambda run: Judgement("passed")), monkeypatch,
                        tmp_path)
    seen = dict(line.split("=", 1) for line in report_env(report).splitlines() if "=" in line)
    assert {k for k in seen if k.startswith("AWS_")} == {"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                                                           "AWS_EC2_METADATA_DISABLED"}
    assert seen["AWS_CONFIG_FILE"] == seen["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert not any(value in report_env(report) for value in PLANTED.values())


def report_env(report) -> str:
    return report.artifacts["infra/sam-validate/backend/template.yaml/env.txt"].decode()


def test_without_its_region_sam_finds_none_on_the_host_and_crashes(app: Path, monkeypatch, tmp_path: Path):
    """The region is the step's argument only: neither AWS_REGION nor ~/.aws/config reaches sam."""
    (sam,) = sam_validate.steps(load_config(None), ["backend/template.yaml"])
    script = sam_validate.SCRIPT.replace(' --region "$2"', "")  # as if the step gave none
    assert script != sam_validate.SCRIPT
    _, ran = _run_alone(app, replace(sam, argv=("sh", "-c", script, *sam.argv[3:-1])), monkeypatch, tmp_path)
    assert ran.status == "crashed" and "AWS Region was not found" in ran.reason


def test_no_template_at_all_is_a_usage_error(tmp_path: Path):
    (tmp_path / "template.yaml").write_text("name: not a template\n")
    with pytest.raises(UsageError, match="validate-infra: the app has no SAM/CloudFormation template"):
        run_local(lambda executor: runner.gate("validate_infra", executor), tmp_path)
    with pytest.raises(UsageError, match="infra.templates"):
        stage.steps(load_config(None), [])


def test_the_plan_is_both_tools_per_template_found_without_any_install(app: Path, capsys):
    assert main(["plan", "validate-infra", "--source", str(app)]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in steps] == [cfn_lint.step_id(t) for t in TEMPLATES] + [
        sam_validate.step_id(t) for t in TEMPLATES]
    assert {s["image"] for s in steps} == {"python:3.11-slim-bookworm"} and not any(s["secrets"] for s in steps)


# Dagger, offline: the real dagger-io chains.

def test_in_dagger_each_tool_is_pinned_into_the_python_image_before_the_source_without_npm():
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    config = load_config("infra:\n  region: eu-west-1\n")
    lint, sam = stage.steps(config, ["backend/template.yaml"])
    for step, pin in ((lint, "cfn-lint==1.58.0"), (sam, "aws-sam-cli==1.170.0")):
        ctr = executor.step_container(executor.tool_base(step), step)
        chain = fields(ctr)
        assert (chain[1].name, chain[1].args) == ("from", {"address": "python:3.11-slim-bookworm"})
        mount = index(ctr, "withDirectory", path="/src")
        assert index(ctr, "withExec", args=["pip", "install", "--no-cache-dir", "--disable-pip-version-check",
                                            "--root-user-action=ignore", pin]) < mount
        assert chain[mount].args["source"] is executor.source and chain[mount].args["exclude"] == list(SOURCE_IGNORE)
        text = render(ctr)
        assert "npm" not in text and not find(ctr, "withSecretVariable") and not find(ctr, "withMountedCache")
        assert not any(name in text for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"))
        assert chain[-2].args == {"path": "/src"}
    lint_ctr = executor.step_container(executor.tool_base(lint), lint)
    assert fields(lint_ctr)[-1].args == {"args": [
        "sh", "-c", cfn_lint.SCRIPT, "cfn-lint", "/bayon/reports/infra-cfn-lint-backend-template.yaml",
        "/bayon/tools/cfn-lint-rules", "backend/template.yaml"], "expect": "ANY"}
    (rule,) = find(lint_ctr, "withNewFile", path="/bayon/tools/cfn-lint-rules/stateful_kept.py")
    assert "class StatefulResourcesKept" in rule.args["contents"]
    assert [f.args for f in find(lint_ctr, "withEnvVariable")] == [
        {"name": "AWS_DEFAULT_REGION", "value": "eu-west-1"}, {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}]
    sam_ctr = executor.step_container(executor.tool_base(sam), sam)
    assert fields(sam_ctr)[-1].args["args"] == ["sh", "-c", sam_validate.SCRIPT, "sam", "backend/template.yaml",
                                                "eu-west-1"]
    assert {f.args["name"] for f in find(sam_ctr, "withEnvVariable")} == set(sam_validate.NO_AWS)


def test_the_dagger_function_judges_each_container_and_reports_the_versions_they_printed(monkeypatch):
    """`dagger call validate-infra` offline: the sample's files and template list from disk, the engine's answers
    (exit code, stdout, cfn-lint's report) stubbed at the SDK's leaves by the exec each container ends with."""
    async def read(self, path: str) -> str | None:
        return (COAGENT / path).read_text() if (COAGENT / path).is_file() else None

    async def paths(self, patterns) -> list[str]:
        return ["backend/template.yaml", "package.json", "tsconfig.json"]

    def tool(ctr) -> str:
        return fields(ctr)[-1].args["args"][3]  # the `sh -c SCRIPT NAME ...` name: cfn-lint or sam

    answers = {"cfn-lint": (12, "cfn-lint 1.58.0\n"), "sam": (0, json.loads(
        (INFRA / "sam-valid.json").read_text())["stdout"])}

    async def code(self) -> int:
        return answers[tool(self)][0]

    async def stdout(self) -> str:
        return answers[tool(self)][1]

    async def stderr(self) -> str:
        return ""

    async def contents(self) -> str:
        path = fields(self)[-1].args["path"]
        if path == "/bayon/reports/infra-cfn-lint-backend-template.yaml/cfn-lint.json":
            return (INFRA / "cfn-lint-sample.json").read_text()
        raise dagger.QueryError([QueryErrorValue(f"{path}: no such file")], SimpleNamespace(document=""))

    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(DaggerExecutor, "source_paths", paths)
    for name, fn in (("exit_code", code), ("stdout", stdout), ("stderr", stderr)):
        monkeypatch.setattr(dagger.Container, name, fn)
    monkeypatch.setattr(dagger.File, "contents", contents)
    out = json.loads(asyncio.run(Ci().validate_infra(source=dag.directory(), format="json")))
    assert [(s["id"], s["status"], s["tool_version"]) for s in out["steps"]] == [
        ("infra/cfn-lint/backend/template.yaml", "passed", "1.58.0"),
        ("infra/sam-validate/backend/template.yaml", "passed", "1.170.0")]
    assert [f["rule"] for f in out["findings"]] == ["I3011", "I3011", "W9011", "W9011"]
    answers["sam"] = (1, "SAM CLI, version 1.170.0\n")  # no verdict from sam: the call fails
    with pytest.raises(GateFailed, match=r"^validate-infra failed: 1 step\(s\) not passed"):
        asyncio.run(Ci().validate_infra(source=dag.directory()))
