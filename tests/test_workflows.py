"""The pipeline's GitHub workflows: every job is checkout plus one pinned dagger step on the sample app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from apps import COAGENT, ROOT, run_local

from ci.cli import signature
from ci.config import load_config
from ci.core.sources import glob_source
from ci.core.text import kebab
from ci.pipeline import runner

WORKFLOWS = ROOT / ".github" / "workflows"
PROJECT_OWN = {"tests.yml"}  # the project's own test workflow may be ordinary
ENGINE = json.loads((ROOT / "dagger.json").read_text())["engineVersion"]


def pipeline_workflows() -> list[Path]:
    return sorted(p for p in WORKFLOWS.glob("*.yml") if p.name not in PROJECT_OWN)


@pytest.mark.parametrize("path", pipeline_workflows(), ids=lambda p: p.name)
def test_every_job_is_checkout_plus_one_pinned_dagger_step(path: Path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"], f"{path.name}: set least-privilege permissions"
    for name, job in workflow["jobs"].items():
        steps = job["steps"]
        assert len(steps) == 2, f"{path.name}:{name} has {len(steps)} steps"
        assert steps[0]["uses"].startswith("actions/checkout@")
        dagger_step = steps[1]
        assert dagger_step["uses"].startswith("dagger/dagger-for-github@v8")
        assert dagger_step["with"]["version"] == ENGINE, "the action must run the engine dagger.json names"
        assert "--source examples/coagent" in dagger_step["with"]["call"]


def test_ci_runs_on_every_push_pull_request_and_by_hand():
    workflow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["**"]
    assert "pull_request" in triggers and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read"}


def test_ci_checks_out_the_history_and_passes_the_event_base():
    job = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())["jobs"]["ci"]
    assert job["steps"][0]["with"]["fetch-depth"] == 0, "git needs the base commit to compare against"
    call = job["steps"][1]["with"]["call"]
    assert "--base=${{ github.event.pull_request.base.sha" in call  # a pull request: its base
    assert "github.event.before" in call  # a push: the previous tip of the branch ...
    assert "!github.event.created" in call and "!github.event.forced" in call  # ... unless new or rewritten
    assert call.rstrip().endswith("|| '' }}")  # else no base: everything runs


def test_security_runs_on_main_and_develop_weekly_and_by_hand():
    workflow = yaml.safe_load((WORKFLOWS / "security.yml").read_text())
    triggers = workflow[True]
    assert triggers["push"]["branches"] == triggers["pull_request"]["branches"] == ["main", "develop"]
    assert triggers["schedule"] == [{"cron": "0 9 * * 1"}] and "workflow_dispatch" in triggers


def test_only_the_security_job_may_write_security_events_and_it_uploads_with_the_job_token():
    for path in pipeline_workflows():
        workflow = yaml.safe_load(path.read_text())
        assert "security-events" not in workflow["permissions"], path.name
        for name, job in workflow["jobs"].items():
            if path.name != "security.yml":
                assert "security-events" not in job.get("permissions", {}), f"{path.name}:{name}"
    job = yaml.safe_load((WORKFLOWS / "security.yml").read_text())["jobs"]["security"]
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    checkout, dagger = job["steps"]
    assert checkout["with"]["fetch-depth"] == 0, "the secrets scan reads the whole history"
    assert dagger["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}
    call = dagger["with"]["call"]
    assert call.startswith("security --source examples/coagent --repo-path examples/coagent")
    assert "'--github-token env://GITHUB_TOKEN'" in call and "!github.event.pull_request.head.repo.fork" in call
    for flag in ("--github-repository ${{ github.repository }}", "--commit-sha ${{ github.sha }}",
                 "--ref ${{ github.ref }}", "--base=${{ github.event.pull_request.base.sha"):
        assert flag in call


TAKE_THE_REPOSITORY = {kebab(name) for name, fn in signature.load().items()
                       if any(p["kind"] == "repository" for p in fn["parameters"])}
"""The functions whose `repo` argument (the repository with its `.git`) enters the engine."""


def loads_git(call: str) -> bool:
    """Whether a dagger step's call takes `.git` into the engine: a function with a repository, or `--base`."""
    words = call.split()
    return words[0] in TAKE_THE_REPOSITORY or any(w == "--base" or w.startswith("--base=") for w in words)


def test_every_job_that_takes_git_into_the_engine_checks_out_without_persisted_credentials():
    assert {"ci", "security", "secrets", "sast"} <= TAKE_THE_REPOSITORY
    checked = []
    for path in pipeline_workflows():
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            checkout, dagger_step = job["steps"]
            if loads_git(dagger_step["with"]["call"]):
                assert checkout["with"].get("persist-credentials") is False, (
                    f"{path.name}:{name}: set `persist-credentials: false` on actions/checkout, or the job token sits "
                    "in the .git/config the engine receives")
                checked.append(f"{path.name}:{name}")
    assert checked, "no job takes .git into the engine: the rule checked nothing"


def test_validate_infrastructure_runs_on_main_and_develop_when_a_template_changes_and_by_hand():
    workflow = yaml.safe_load((WORKFLOWS / "validate-infrastructure.yml").read_text())
    triggers = workflow[True]
    assert triggers["push"]["branches"] == triggers["pull_request"]["branches"] == ["main", "develop"]
    assert triggers["push"]["paths"] == triggers["pull_request"]["paths"] and "workflow_dispatch" in triggers
    filters = [re.compile(glob_source(p) + r"\Z") for p in triggers["push"]["paths"]]
    found = run_local(lambda executor: runner.infra_templates(executor, load_config(None)), COAGENT)
    assert found == ["backend/template.yaml"]
    for path in [f"examples/coagent/{t}" for t in found] + ["infra/stack.template", "svc/template.yml"]:
        assert any(f.match(path) for f in filters), f"a change to {path} would not run the workflow"
    assert not any(f.match("examples/coagent/app/page.tsx") for f in filters)


def test_validate_infra_gets_no_secret_and_no_aws_credential():
    workflow = yaml.safe_load((WORKFLOWS / "validate-infrastructure.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["validate-infra"]
    checkout, dagger_step = job["steps"]
    assert "env" not in dagger_step and "env" not in job
    assert dagger_step["with"]["call"] == ("validate-infra --source examples/coagent --repo-path examples/coagent "
                                           "--format github")
    secrets = {line.split("secrets.")[1].split()[0] for line in
               (WORKFLOWS / "validate-infrastructure.yml").read_text().splitlines() if "secrets." in line}
    assert secrets == {"DAGGER_CLOUD_TOKEN"}


def test_preview_changes_runs_on_pull_requests_with_github_oidc_only():
    workflow = yaml.safe_load((WORKFLOWS / "validate-infrastructure.yml").read_text())
    assert workflow[True]["pull_request"]["branches"] == ["main", "develop"]
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["preview-changes"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    # forks get no ID token, and without the role variable --aws-role-arn would swallow the next flag
    assert job["if"] == "${{ vars.AWS_ROLE_ARN_STAGING != '' && !github.event.pull_request.head.repo.fork }}"
    assert job["needs"] == "validate-infra"
    call = job["steps"][1]["with"]["call"]
    assert call.startswith("preview-changes --source examples/coagent --env staging")
    assert "--oidc-request-token env://ACTIONS_ID_TOKEN_REQUEST_TOKEN" in call  # a Dagger secret, read by the CLI
    assert '--oidc-request-url "$ACTIONS_ID_TOKEN_REQUEST_URL"' in call and "--aws-role-arn ${{ vars." in call
    assert "secrets.AWS" not in call and "--aws-access-key-id" not in call  # no long-lived keys
    environments = yaml.safe_load((ROOT / "examples" / "coagent" / "pipeline.yaml").read_text())["environments"]
    assert "staging" in environments


def test_performance_runs_weekly_by_hand_and_when_called_with_a_deployed_url():
    workflow = yaml.safe_load((WORKFLOWS / "performance.yml").read_text())
    triggers = workflow[True]
    assert set(triggers) == {"schedule", "workflow_dispatch", "workflow_call"}  # never on push: not next to ci
    assert triggers["schedule"] == [{"cron": "0 6 * * 1"}]
    assert triggers["workflow_dispatch"]["inputs"]["url"]["required"] is False
    assert triggers["workflow_call"]["inputs"]["url"] == {
        "description": triggers["workflow_call"]["inputs"]["url"]["description"], "required": True, "type": "string"}
    assert workflow["permissions"] == {"contents": "read"}


def test_performance_passes_the_url_through_the_environment_never_into_the_script():
    (job,) = yaml.safe_load((WORKFLOWS / "performance.yml").read_text())["jobs"].values()
    checkout, dagger_step = job["steps"]
    assert checkout["with"]["persist-credentials"] is False
    call = dagger_step["with"]["call"]
    assert call.startswith("lighthouse --source examples/coagent") and "--update-baseline" not in call
    assert dagger_step["env"] == {"LIGHTHOUSE_URL": "${{ inputs.url }}"}
    assert '${LIGHTHOUSE_URL:+--url "$LIGHTHOUSE_URL"}' in call and "${{" not in call
    flags = {p["name"] for p in signature.load()["lighthouse"]["parameters"]}
    assert {"url", "format", "repo_path"} <= flags
