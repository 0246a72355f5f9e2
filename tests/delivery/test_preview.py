"""preview-changes end to end on the sample app against a real moto_server: `sam build` + `sam package` for real into a
moto bucket, the SAM transform on the client, the emulator profile, a change set created, described and deleted.

The stack is created from the first preview's packaged template; then a KeySchema change must show as the table's
replacement and fail as infra/stateful-replacement, and the stack must be exactly as before afterwards. Planted
credential values must reach the package step only, never its argv, the plan, the report or the logs.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import dagger
import jsonschema
import pytest
import yaml
from dagger import dag

from ci.config import load_config
from ci.core.errors import UsageError
from ci.core.report import Report
from ci.delivery import credentials, emulator, packaging, preview, sam
from ci.delivery.clients import Target
from ci.executors.dagger import DaggerExecutor
from ci.executors.local import LocalExecutor
from ci.main import Ci
from ci.output.render import dumps, render
from ci.pipeline import runner
from tests import chain
from tests.apps import copy_app
from tests.delivery.conftest import REGION, moto_client

STACK, BUCKET = "coagent-emu", "bayon-artifacts"
KEY_ID, SECRET = "AKIAPLANTEDKEY000042", "planted-secret-value-9f3e1c"
"""Planted credentials: moto takes any; they must show up nowhere but the package step's environment."""


class Recording:
    """The local executor, recording each step it is asked to run (what would be its argv, env and plan)."""

    def __init__(self, inner: LocalExecutor):
        self.inner, self.name, self.steps = inner, inner.name, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def run(self, step):
        self.steps.append(step)
        return await self.inner.run(step)


def _with_environment(app: Path, url: str, **extra) -> None:
    config = yaml.safe_load((app / "pipeline.yaml").read_text())
    config["environments"] = {"emu": {"region": REGION, "stack_name": STACK, "artifacts_bucket": BUCKET,
                                      "endpoint_url": url, **extra}}
    config.pop("notifications")  # the sample's name its own environments, replaced here
    (app / "pipeline.yaml").write_text(yaml.safe_dump(config))


def _preview(app: Path) -> tuple[Report, list]:
    given = credentials.Given(KEY_ID, SECRET)

    async def main():
        async with LocalExecutor(app) as local:
            recording = Recording(local)
            return await runner.preview_changes(recording, "emu", given), recording.steps

    return asyncio.run(main())


@pytest.fixture(scope="module")
def app(tmp_path_factory, moto_url) -> Path:
    app = copy_app(tmp_path_factory.mktemp("preview") / "coagent")
    _with_environment(app, moto_url)
    moto_client(moto_url, "s3").create_bucket(Bucket=BUCKET)
    return app


@pytest.fixture(scope="module")
def first(app, moto_url):
    """The preview of a stack that does not exist yet (a CREATE change set), then the stack created from its packaged
    template as the emulator profile makes it: the deployed state the later previews compare with."""
    report, steps = _preview(app)
    cfn = moto_client(moto_url, "cloudformation")
    status_after_preview = [s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]
                            if s["StackName"] == STACK]
    packaged = json.loads(report.artifacts[f"{packaging.step_id('emu')}/{packaging.PACKAGED}"])
    aws = credentials.session(credentials.Given(KEY_ID, SECRET), REGION)
    deployed, _ = emulator.profile(sam.translated(packaged, {}, aws, moto_client(moto_url, "iam")))
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(deployed), Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return report, steps, status_after_preview, packaged


def change_rows(report) -> list[dict[str, str]]:
    """The rows of the report's one change-set table, by key."""
    (table,) = [t for t in report.tables if t.step == "infra/change-set/emu"]
    return [dict(zip(preview.CHANGE_KEYS, row)) for row in table.rows]


def test_create_preview_lists_the_new_resources_and_what_the_emulator_drops(first, moto_url):
    report, steps, status_after_preview, packaged = first
    assert [s.id for s in report.steps] == ["infra/package/emu", "infra/change-set/emu"]
    assert [s.status for s in report.steps] == ["passed", "passed"], report.steps
    assert packaged["Resources"]["ListingsFunction"]["Properties"]["CodeUri"].startswith(f"s3://{BUCKET}/{STACK}/")
    rows = change_rows(report)
    assert {(r["action"], r["logical_id"], r["type"]) for r in rows} == {
        ("Add", "ListingsBucket", "AWS::S3::Bucket"), ("Add", "ListingsFunction", "AWS::Lambda::Function"),
        ("Add", "ListingsFunctionRole", "AWS::IAM::Role"), ("Add", "ListingsTable", "AWS::DynamoDB::Table")}
    (dropped,) = [f for f in report.findings if f.rule == preview.DROPPED]
    assert dropped.severity == "warning" and "ServerlessRestApi" in dropped.extra["dropped"]
    assert "Outputs.ApiUrl" in dropped.extra["dropped"]
    assert "CREATE change set" in report.steps[1].reason
    assert status_after_preview in ([], ["DELETE_COMPLETE"])  # the REVIEW_IN_PROGRESS shell went with the change set


def _changed_key(app: Path) -> None:
    """The table's key attribute renamed: a KeySchema change, which replaces a DynamoDB table."""
    path = app / "backend" / "template.yaml"
    path.write_text(path.read_text().replace("AttributeName: id", "AttributeName: pk"))


def _state(moto_url: str) -> tuple:
    cfn = moto_client(moto_url, "cloudformation")
    resources = sorted((r["LogicalResourceId"], r["PhysicalResourceId"])
                       for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"])
    return (cfn.get_template(StackName=STACK)["TemplateBody"], resources,
            cfn.list_change_sets(StackName=STACK)["Summaries"], cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"])


@pytest.fixture(scope="module")
def replaced(first, app, moto_url):
    before = _state(moto_url)
    _changed_key(app)
    report, steps = _preview(app)
    return before, report, steps, _state(moto_url)


def test_key_change_is_the_tables_replacement_and_fails(replaced):
    _, report, _, _ = replaced
    rows = {r["logical_id"]: r for r in change_rows(report)}
    assert rows["ListingsTable"] == {"action": "Modify", "logical_id": "ListingsTable", "type": "AWS::DynamoDB::Table",
                                     "replacement": "True", "decided_by": "template diff"}
    assert "ListingsBucket" not in rows  # unchanged resources are no rows
    errors = [f for f in report.findings if f.severity == "error"]
    assert [(f.rule, f.extra["logical_id"], f.step) for f in errors] == [
        ("infra/stateful-replacement", "ListingsTable", "infra/change-set/emu")]
    assert report.steps[1].status == "failed" and not report.passed
    assert "environments.emu.allow_replacement" in errors[0].message


def test_stack_is_unchanged_and_no_change_set_is_left(replaced):
    before, _, _, after = replaced
    assert after == before
    assert after[2] == []  # no change sets left
    assert after[3] == "CREATE_COMPLETE"


def test_allow_replacement_accepts_it(replaced, moto_url):
    _, report, _, _ = replaced
    config = load_config("environments:\n"
                         f"  emu: {{region: {REGION}, stack_name: {STACK}, artifacts_bucket: {BUCKET}, "
                         f"endpoint_url: '{moto_url}', allow_replacement: [ListingsTable]}}\n")
    environment = config.environments["emu"]
    packaged = json.loads(report.artifacts[f"{packaging.step_id('emu')}/{packaging.PACKAGED}"])
    aws = credentials.session(credentials.Given(KEY_ID, SECRET), REGION)
    result, found, rows = preview._change_set(aws, Target(REGION, moto_url, 1), environment,
                                              preview.Request("emu", "backend/template.yaml", 1), packaged)
    assert result.status == "passed"
    assert [(f.rule, f.severity) for f in found if f.rule.startswith("infra/stateful")] == [
        ("infra/stateful-replacement", "info")]
    assert {"action": "Modify", "logical_id": "ListingsTable", "type": "AWS::DynamoDB::Table", "replacement": "True",
            "decided_by": "template diff"} in rows


def test_planted_credentials_reach_the_package_step_only(first, replaced, capfd, caplog):
    report, steps, _, _ = first
    _, report2, steps2, _ = replaced
    assert [s.id for s in steps + steps2] == ["infra/package/emu"] * 2
    for step in steps + steps2:
        assert dict(step.secrets) == credentials.CREDENTIAL_SECRETS  # by name, never by value
        shown = json.dumps([list(step.argv), dict(step.env), step.plan()])
        assert KEY_ID not in shown and SECRET not in shown
        assert step.env[packaging.ENDPOINT_ENV].startswith("http://127.0.0.1:")
    for r in (report, report2):
        for fmt in ("json", "table", "markdown", "github"):
            text = render(r, fmt)
            assert KEY_ID not in text and SECRET not in text
        assert all(KEY_ID.encode() not in data and SECRET.encode() not in data for data in r.artifacts.values())
    out = capfd.readouterr()
    assert KEY_ID not in out.out + out.err + caplog.text and SECRET not in out.out + out.err + caplog.text
    assert KEY_ID not in dumps(replace(report2, artifacts={}))


def test_an_unknown_environment_lists_the_configured_ones(tmp_path):
    app = copy_app(tmp_path / "coagent")

    async def main():
        async with LocalExecutor(app) as local:
            await runner.preview_changes(local, "prod", credentials.Given(KEY_ID, SECRET))

    with pytest.raises(UsageError, match="^--env prod: no such environment; pipeline.yaml has dev, production, staging$"):
        asyncio.run(main())


def test_the_dagger_face_reads_the_secrets_for_boto3_only(first, app, moto_url, monkeypatch):
    """`dagger call preview-changes` offline: the engine's leaves answered (the package step's exit code and the
    packaged template the real `sam package` wrote above), the chains real, boto3 against moto in this process. The
    Secrets' values are read for the clients; the package container gets them as secret variables only."""
    _, _, _, packaged = first
    ran = []

    async def read(self, path):
        return (app / path).read_text() if (app / path).is_file() else None

    async def paths(self, patterns):
        return sorted(p.relative_to(app).as_posix() for pattern in patterns for p in app.glob(pattern)
                      if "node_modules" not in p.parts)


    async def exit_code(self):
        ran.append(self)
        return 0

    async def text(self):
        return ""

    async def contents(self):
        assert chain.fields(self)[-1].args["path"].endswith(f"/{packaging.PACKAGED}")
        return json.dumps(packaged)

    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(DaggerExecutor, "source_paths", paths)
    for cls, name, fn in ((dagger.Secret, "plaintext", chain.planted_plaintext),
                          (dagger.Container, "exit_code", exit_code),
                          (dagger.Container, "stdout", text), (dagger.Container, "stderr", text),
                          (dagger.File, "contents", contents)):
        monkeypatch.setattr(cls, name, fn)
    text_ = asyncio.run(Ci().preview_changes(source=dag.directory(), env="emu", format="json",
                                             aws_access_key_id=dag.set_secret("key", KEY_ID),
                                             aws_secret_access_key=dag.set_secret("secret", SECRET)))
    report = json.loads(text_)
    assert [(s["id"], s["status"]) for s in report["steps"]] == [("infra/package/emu", "passed"),
                                                                 ("infra/change-set/emu", "passed")]
    assert "UPDATE change set for coagent-emu" in report["steps"][1]["reason"]  # the stack made above
    (ctr,) = ran
    assert {f.args["name"] for f in chain.find(ctr, "withSecretVariable")} == {"AWS_ACCESS_KEY_ID",
                                                                              "AWS_SECRET_ACCESS_KEY"}
    plain = repr([f.args for f in chain.fields(ctr) if f.name in ("withExec", "withEnvVariable")])
    assert KEY_ID not in plain and SECRET not in plain and KEY_ID not in text_ and SECRET not in text_


def test_the_report_keeps_the_one_shape_and_points_at_the_tables_line(replaced, app):
    _, report, _, _ = replaced
    schema = json.loads((Path(runner.__file__).parent.parent / "schemas" / "report.schema.json").read_text())
    data = json.loads(dumps(report))
    jsonschema.validate(data, schema)
    (table,) = data["tables"]
    assert (table["step"], table["title"], table["columns"]) == (
        "infra/change-set/emu", "change set: emu", ["action", "logical id", "type", "replacement", "decided by"])
    assert ["Modify", "ListingsTable", "AWS::DynamoDB::Table", "True", "template diff"] in table["rows"]
    (error,) = [f for f in data["findings"] if f["severity"] == "error"]
    lines = (app / "backend" / "template.yaml").read_text().splitlines()
    assert (error["file"], lines[error["line"] - 1].strip()) == ("backend/template.yaml", "ListingsTable:")
    markdown = render(report, "markdown")
    assert "**infra/change-set/emu: change set: emu**" in markdown
    assert "| Modify | ListingsTable | AWS::DynamoDB::Table | True | template diff |" in markdown
    assert "::error file=backend/template.yaml,line=" in render(report, "github", "")
