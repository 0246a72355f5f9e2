"""`init`: what it writes into an app passes the config loader and every workflow check, on the sample app without
its pipeline.yaml and on apps that never had one; existing files are refused unless --force; the Dagger face
returns the same files as a Changeset."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import dagger
import pytest
import yaml
from apps import COAGENT, copy_app, run_local
from dagger import dag
from workflow_checks import (actionlint, load, missing_repo_path, schema_errors, shape_problems, spliced_text,
                             unregistered)

from ci import Ci
from ci.adoption import workflows
from ci.cli.app import main
from ci.config import load_config
from ci.executors.dagger import DaggerExecutor
from ci.pipeline import adoption, runner

MODULE = "github.com/acme/bayon-pipeline@v0.3.1"
ENGINE = json.loads((COAGENT.parent.parent / "dagger.json").read_text())["engineVersion"]
ALL = {"ci.yml", "security.yml", "validate-infrastructure.yml", "deploy-dev.yml", "deploy-staging.yml",
       "deploy-production.yml", "rollback.yml"}
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  Api:
    Type: AWS::Serverless::Function
    Properties: { Runtime: nodejs22.x, Handler: index.handler, CodeUri: src/ }
Outputs:
  ShopUrl:
    Value: !Sub "https://${AWS::StackName}.example.com/"
"""


def init(app: Path, *extra: str) -> int:
    return main(["init", "--source", str(app), "--module", MODULE, *extra])


def check_written(app: Path, expected: set[str]) -> dict:
    """pipeline.yaml loads as the runner loads it; the workflows lint, match the schema, have the shape and call
    the module by reference with registered functions and flags; their gates are the config's environments."""
    config = run_local(runner.load, app)
    flows = sorted((app / ".github" / "workflows").glob("*.yml"))
    assert {p.name for p in flows} == expected
    assert actionlint(flows) == [] and schema_errors(flows) == ""
    for path in flows:
        workflow = load(path)
        assert shape_problems(workflow, ENGINE, module=MODULE) == [], path.name
        assert unregistered(workflow) == set(), path.name
        assert missing_repo_path(workflow) == [] and spliced_text(workflow) == [], path.name
        assert "examples/coagent" not in path.read_text()
        for job in workflow["jobs"].values():
            gate = job.get("environment")
            assert gate is None or gate in {e.github_environment for e in config.environments.values()} | {
                a.github_environment for e in config.environments.values() for a in e.approvals}, path.name
    return config


def test_the_sample_app_without_its_pipeline_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    app = copy_app(tmp_path / "app")
    (app / "pipeline.yaml").unlink()
    assert init(app) == 0
    assert "wrote pipeline.yaml" in capsys.readouterr().err
    config = check_written(app, ALL)
    text = (app / "pipeline.yaml").read_text()
    assert text.startswith("# Bayon Pipeline configuration of coagent, written by `bayon init`")
    assert "jest.integration.config.mjs found" in text and 'Next static export (output: "export")' in text
    assert "engines.node '>=20.9.0'" in text and "backend/template.yaml found" in text
    assert config.tests.integration.enabled and config.quality.lint and config.quality.typecheck
    assert list(config.environments) == ["dev", "staging", "production"]
    production = config.environments["production"]
    assert production.promote_from == "staging" and production.safeguards.backup_tables == ["ListingsTable"]
    assert [a.github_environment for a in production.approvals] == ["production-approval", "production"]
    assert [(s.output, s.table, s.bucket) for s in production.smoke] == [
        ("ApiUrl", None, None), (None, "ListingsTable", None), (None, None, "ListingsBucket")]
    flows = app / ".github" / "workflows"
    paths = yaml.safe_load((flows / "validate-infrastructure.yml").read_text())[True]["push"]["paths"]
    assert paths[:2] == ["backend/**", "pipeline.yaml"] and "ci/stages/infra/**" not in paths
    route = load(flows / "deploy-staging.yml")["jobs"]["route"]["steps"][1]["with"]
    assert route["module"] == MODULE and route["call"].startswith("route --source . --event")


def test_an_app_that_never_had_one_with_a_template_and_no_integration_tests(tmp_path: Path):
    app = tmp_path / "shop"
    (app / "infra").mkdir(parents=True)
    (app / "infra" / "template.yaml").write_text(TEMPLATE)
    (app / "package.json").write_text(json.dumps({
        "name": "@acme/Shop_Front", "scripts": {"build": "next build", "test": "jest"},
        "dependencies": {"next": "16.0.0"}, "devDependencies": {"jest": "30.0.0", "typescript": "5.9.3"}}))
    (app / "next.config.mjs").write_text("export default { reactStrictMode: true };\n")
    assert init(app) == 0
    config = check_written(app, ALL)
    assert (config.quality.lint, config.quality.typecheck, config.quality.format) == (False, True, False)
    assert config.tests.unit and not config.tests.integration.enabled
    assert config.environments["staging"].stack_name == "shop-front-staging"
    assert config.environments["production"].safeguards.backup_tables == ["Orders"]
    assert [(s.output, s.table) for s in config.environments["dev"].smoke] == [("ShopUrl", None), (None, "Orders")]
    text = (app / "pipeline.yaml").read_text()
    assert "server-rendered" in text and "amplify" not in text
    paths = load(app / ".github" / "workflows" / "validate-infrastructure.yml")[True]["push"]["paths"]
    assert paths[0] == "infra/**"


def test_an_app_without_a_template_gets_the_checks_only(tmp_path: Path):
    app = tmp_path / "site"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "site", "dependencies": {"next": "16.0.0"},
                                                  "devDependencies": {"eslint": "9.0.0"}}))
    assert init(app) == 0
    config = check_written(app, {"ci.yml", "security.yml"})
    assert config.environments == {} and not config.tests.unit and config.quality.lint
    assert "No SAM/CloudFormation template found" in (app / "pipeline.yaml").read_text()


def test_existing_files_are_refused_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    app = copy_app(tmp_path / "app")
    before = (app / "pipeline.yaml").read_text()
    assert init(app) == 2
    err = capsys.readouterr().err
    assert err.startswith("bayon: init: pipeline.yaml exist(s); pass --force") and err.count("\n") == 1
    assert (app / "pipeline.yaml").read_text() == before and not (app / ".github").exists()
    assert init(app, "--force") == 0
    assert (app / "pipeline.yaml").read_text() != before
    check_written(app, ALL)


@pytest.mark.parametrize("module", ["", "github.com/acme/bayon-pipeline", "bayon pipeline@v1", "@v1"])
def test_an_unpinned_or_malformed_module_reference_is_refused(tmp_path: Path, module: str,
                                                             capsys: pytest.CaptureFixture[str]):
    app = tmp_path / "x"
    app.mkdir()
    assert main(["init", "--source", str(app), "--module", module]) == 2
    assert "give the module's Git reference pinned to a version" in capsys.readouterr().err
    assert list(app.iterdir()) == []


def test_the_dagger_face_returns_the_same_files_as_a_changeset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Offline: the executor reads the sample app from disk (without its pipeline.yaml), the Changeset's chain is
    the source with each file written, compared with the source."""
    async def read(self, path: str) -> str | None:
        file = COAGENT / path
        return file.read_text() if file.is_file() and path != "pipeline.yaml" else None

    async def paths(self, patterns) -> list[str]:
        return ["backend/template.yaml"]

    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(DaggerExecutor, "source_paths", paths)
    source = dag.directory()
    changes = asyncio.run(Ci().init(source=source, module=MODULE))
    assert isinstance(changes, dagger.Changeset)
    selections = list(changes._ctx.selections)
    written = {s.args["path"]: s.args["contents"] for s in selections if s.name == "withNewFile"}
    copy = copy_app(tmp_path / "app")
    (copy / "pipeline.yaml").unlink()
    expected = run_local(lambda executor: adoption.init(executor, MODULE), copy)
    assert written == expected
    assert selections[-1].name == "changes" and selections[-1].args["from"] is source


def test_the_workflow_templates_render_for_both_callers():
    """The same templates: this repository's (local module, the app in a subdirectory) and an app's (by reference)."""
    app = workflows.render(workflows.Caller(module=MODULE, app=".", template_dirs=("backend",)))
    here = workflows.render(workflows.SAMPLE)
    assert set(app) == set(here) == {f".github/workflows/{n}" for n in ALL}
    for path in app:
        assert "@MODULE@" not in app[path] and "@SOURCE@" not in app[path] and "@ENGINE@" not in app[path]
        assert app[path].count(f"module: {MODULE}") == here[path].count("\n          call:")
        assert "module:" not in here[path]


@pytest.mark.parametrize("package", ['{"name": 7, "devDependencies": {"next": "16.0.0"}, "dependencies": ["jest"], '
                                     '"scripts": "jest", "engines": "node 20"}',
                                     '{"dependencies": {"next": "16.0.0"}, "devDependencies": null, "scripts": []}'])
def test_a_package_json_of_an_odd_shape_still_gets_a_loadable_pipeline_yaml(tmp_path: Path, package: str):
    app = tmp_path / "odd"
    app.mkdir()
    (app / "package.json").write_text(package)
    assert init(app) == 0
    config = load_config((app / "pipeline.yaml").read_text())
    assert not (config.quality.lint or config.tests.unit or config.tests.integration.enabled)


@pytest.mark.parametrize("package, said", [
    (None, "init: this directory has no package.json; run init where the Next.js app's package.json is"),
    ("{not json", "init: package.json is not a JSON object; fix it"),
    ("[]", "init: package.json is not a JSON object; fix it"),
    ('{"dependencies": {"react-scripts": "4.0.1"}}', "init: package.json has no next dependency, and Bayon Pipeline "
                                                     "builds Next.js apps"),
])
def test_a_directory_that_is_no_nextjs_app_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 package: str | None, said: str):
    """As in aws-samples/lambda-refarch-webapp, whose root holds the SAM template and www/ a create-react-app."""
    app = tmp_path / "repo"
    app.mkdir()
    (app / "template.yaml").write_text(TEMPLATE)
    if package is not None:
        (app / "package.json").write_text(package)
    assert init(app) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bayon: {said}") and err.count("\n") == 1
    assert sorted(p.name for p in app.iterdir()) == ["package.json", "template.yaml"][package is None:]
