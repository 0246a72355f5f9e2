"""The pipeline's GitHub workflows: every job is checkout plus one pinned dagger step on the sample app."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest
import yaml
from apps import COAGENT, ROOT, run_local
from workflow_checks import (actionlint, call_flags, dagger_steps, load, missing_repo_path, schema_errors,
                             shape_problems, spliced_text, takes_the_repository, unregistered)

from ci.adoption import workflows as rendered
from ci.cli import signature
from ci.config import load_config
from ci.core.sources import glob_source
from ci.delivery import routing
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
    assert shape_problems(workflow, ENGINE, module=None) == [], "the action must run the engine dagger.json names"
    for name, step in dagger_steps(workflow).items():
        assert "--source examples/coagent" in step["with"]["call"], f"{path.name}:{name}"


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
    assert dagger["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}", "REF": "${{ github.ref }}"}
    call = dagger["with"]["call"]
    assert call.startswith("security --source examples/coagent --repo-path examples/coagent")
    assert "'--github-token env://GITHUB_TOKEN'" in call and "!github.event.pull_request.head.repo.fork" in call
    for flag in ("--github-repository ${{ github.repository }}", "--commit-sha ${{ github.sha }}",
                 '--ref "$REF"', "--base=${{ github.event.pull_request.base.sha"):
        assert flag in call


TAKE_THE_REPOSITORY = takes_the_repository()
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


# Linted, schema-checked and shape-checked, every call's function and flags registered; the deploy workflows' gates,
# concurrency and permissions (issue 11).

DEPLOYS = ("deploy-dev.yml", "deploy-staging.yml", "deploy-production.yml", "rollback.yml")
CONFIG = load_config((COAGENT / "pipeline.yaml").read_text())


def all_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def test_actionlint_finds_nothing_in_any_workflow():
    assert actionlint(all_workflows()) == []


def test_actionlint_and_the_schema_catch_a_broken_workflow(tmp_path: Path):
    """The two linters can fail: a job needing a job that does not exist, a step with an unknown key."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    needs: nope\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - uses: actions/checkout@v4\n        wiht: {}\n")
    assert any("nope" in f["message"] for f in actionlint([broken]))
    assert "wiht" in schema_errors([broken])


def test_every_workflow_matches_githubs_workflow_schema():
    assert schema_errors(all_workflows()) == ""


def test_the_committed_workflows_are_the_rendered_templates():
    """`python -m ci.adoption.workflows --write` renders them; init writes the same templates for an app."""
    for path, text in rendered.render(rendered.SAMPLE).items():
        assert (ROOT / path).read_text() == text, f"{path}: run python -m ci.adoption.workflows --write"
    assert rendered.ENGINE_VERSION == ENGINE


def test_every_dagger_call_names_a_registered_function_and_flags():
    missing = set().union(*(unregistered(load(p)) for p in pipeline_workflows()))
    assert missing == set(), "a workflow calls what the module does not register"


def dagger_call(call: str) -> dict:
    """A workflow of one job `j` whose dagger step calls `call`."""
    return {"jobs": {"j": {"steps": [{"uses": "dagger/dagger-for-github@v8.4.1", "with": {"call": call}}]}}}


def test_every_call_that_takes_the_repository_names_where_the_app_sits_in_it():
    """The sample app is examples/coagent: without --repo-path the function looks for it at the repository's root."""
    assert {"deployment-plan", "ci", "security"} <= TAKE_THE_REPOSITORY
    for path in pipeline_workflows():
        assert missing_repo_path(load(path)) == [], path.name
    assert missing_repo_path(dagger_call("deployment-plan --source examples/coagent --env staging")) == [
        "j: deployment-plan --source examples/coagent without --repo-path"]
    assert missing_repo_path(dagger_call("deployment-plan --source . --env staging")) == []  # an app at the root
    assert missing_repo_path(dagger_call("deploy --source examples/coagent --env dev")) == []  # no repository


def test_the_flag_parser_reads_flags_in_expressions_and_parameter_expansions():
    function, flags = call_flags("security --source a ${{ !x && '--github-token env://T' || '' }} "
                                 '${URL:+--url "$URL"} --base=${{ y }}')
    assert function == "security" and flags == ["--source", "--url", "--base", "--github-token"]
    assert unregistered({"jobs": {"j": {"steps": [{"uses": "dagger/dagger-for-github@v8.4.1", "with": {
        "call": "deploy --source . --env dev --relase x"}}]}}}) == {("deploy", "--relase")}


def jobs(name: str) -> dict[str, dict]:
    return load(WORKFLOWS / name)["jobs"]


def test_the_approval_gates_are_the_environments_pipeline_yaml_names_in_order():
    for workflow, env in (("deploy-dev.yml", "dev"), ("deploy-staging.yml", "staging"),
                          ("deploy-production.yml", "production")):
        environment = CONFIG.environments[env]
        gated = [(name, job["environment"]) for name, job in jobs(workflow).items() if "environment" in job]
        expected = [a.github_environment for a in environment.approvals]
        if environment.github_environment not in expected:
            expected.append(environment.github_environment)
        assert [e for _, e in gated] == expected, workflow
        assert gated[-1][0] == "deploy"
        for (before, _), (after, _) in zip(gated, gated[1:]):  # in sequence: each gate waits for the one before
            assert jobs(workflow)[after]["needs"] == before


def test_deploys_acceptance_and_rollbacks_share_the_environments_group_without_cancel_in_progress():
    """`cancel-in-progress: false` lets the job running finish; GitHub still cancels an older job that is pending in
    the group when a newer one queues."""
    for workflow, env in (("deploy-dev.yml", "dev"), ("deploy-staging.yml", "staging"),
                          ("deploy-production.yml", "production")):
        assert jobs(workflow)["deploy"]["concurrency"] == {"group": f"environment-{env}", "cancel-in-progress": False}
    # a rollback during acceptance would test another release than the one accepted
    assert jobs("deploy-staging.yml")["accept"]["concurrency"] == {"group": "environment-staging",
                                                                   "cancel-in-progress": False}
    rollback = load(WORKFLOWS / "rollback.yml")
    assert rollback["jobs"]["rollback"]["concurrency"] == {"group": "environment-${{ inputs.environment }}",
                                                           "cancel-in-progress": False}
    inputs = rollback[True]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["options"] == list(CONFIG.environments)
    assert inputs["release"]["required"] is False


def test_least_privilege_id_token_only_where_oidc_is_used():
    for path in pipeline_workflows():
        workflow = load(path)
        assert workflow["permissions"] == {"contents": "read"}, path.name
        for name, step in dagger_steps(workflow).items():
            permissions = workflow["jobs"][name].get("permissions", {})
            oidc = "--oidc-request-token" in step["with"]["call"]
            assert (permissions.get("id-token") == "write") == oidc, f"{path.name}:{name}"
            token = "--github-token env://GITHUB_TOKEN" in step["with"]["call"]
            assert ("GITHUB_TOKEN" in step.get("env", {})) == token, f"{path.name}:{name}"
            assert "secrets.AWS" not in json.dumps(workflow), "no long-lived AWS keys"


def test_each_deploy_job_gets_the_permissions_its_github_records_need():
    for workflow in ("deploy-dev.yml", "deploy-staging.yml", "deploy-production.yml"):
        assert jobs(workflow)["deploy"]["permissions"] == {"contents": "read", "id-token": "write",
                                                            "deployments": "write", "actions": "read"}
    assert jobs("deploy-staging.yml")["accept"]["permissions"]["contents"] == "write"  # the rc release published
    assert jobs("deploy-production.yml")["approve"]["permissions"] == {"contents": "read", "actions": "read"}
    assert jobs("rollback.yml")["rollback"]["permissions"]["deployments"] == "write"


def test_tag_workflows_route_first_and_run_nothing_for_another_environment():
    for workflow, env, tags, sample in (("deploy-staging.yml", "staging", ["rc-*"], "rc-1.4.0.2"),
                                        ("deploy-production.yml", "production", ["v*"], "v1.4.0")):
        assert fnmatch.fnmatch(sample, tags[0])  # a tag the filter lets through routes to this workflow's environment
        assert routing.route(CONFIG, "push", f"refs/tags/{sample}").environment == env
        loaded = load(WORKFLOWS / workflow)
        assert loaded[True]["push"] == {"tags": tags} and "workflow_dispatch" in loaded[True]
        route = loaded["jobs"]["route"]
        call = route["steps"][1]["with"]["call"]
        assert call.startswith('route --source examples/coagent --event ${{ github.event_name }} --ref "$REF"')
        assert route["steps"][1]["env"] == {"REF": "${{ github.ref }}"}
        assert route["outputs"]["tag"] == "${{ fromJSON(steps.route.outputs.output).release.tag }}"
        assert route["outputs"]["environment"] == "${{ fromJSON(steps.route.outputs.output).environment }}"
        first = [name for name, job in loaded["jobs"].items() if job.get("needs") == "route"]
        assert first and all(loaded["jobs"][n]["if"] == f"needs.route.outputs.environment == '{env}'" for n in first)


def functions(workflow: dict) -> list[str]:
    """The functions a workflow's jobs call, in the jobs' order."""
    return [call_flags(step["with"]["call"])[0] for step in dagger_steps(workflow).values()]


@pytest.mark.parametrize("workflow,ref", [("deploy-staging.yml", "refs/tags/rc-1.4.0"),
                                          ("deploy-production.yml", "refs/tags/v1.4.0"),
                                          ("deploy-dev.yml", "refs/heads/develop")])
def test_each_deploy_workflow_runs_the_stages_route_names_for_its_push(workflow: str, ref: str):
    """The trigger table (route) and the workflows cannot drift apart; a branch push's `ci` is ci.yml's job, and
    develop's security scan security.yml's."""
    ci, security = load(WORKFLOWS / "ci.yml"), load(WORKFLOWS / "security.yml")
    assert ci[True]["push"]["branches"] == ["**"] and functions(ci) == ["ci"]
    assert "develop" in security[True]["push"]["branches"] and functions(security) == ["security"]
    stages = routing.route(CONFIG, "push", ref).stages
    expected = [s for s in stages if not (ref.startswith("refs/heads/") and s in ("ci", "security"))]
    assert [f for f in functions(load(WORKFLOWS / workflow)) if f != "route"] == expected


def test_each_scheduled_workflow_runs_the_stage_route_names_for_its_schedule():
    scheduled = {p.stem: functions(load(p)) for p in pipeline_workflows() if "schedule" in load(p)[True]}
    assert set(scheduled) == set(routing.SCHEDULES) == {"security", "performance"}
    for name, called in scheduled.items():
        assert called == routing.route(CONFIG, "schedule", "refs/heads/main", schedule=name).stages, name


def test_production_promotes_with_stagings_role_and_never_packages():
    production = jobs("deploy-production.yml")
    assert "package" not in production
    for name in ("plan", "deploy"):
        call = production[name]["steps"][1]["with"]["call"]
        assert "--from-aws-role-arn ${{ vars.AWS_ROLE_ARN_STAGING }}" in call
        assert "--aws-role-arn ${{ vars.AWS_ROLE_ARN_PRODUCTION }}" in call
    assert "--env production --release ${{ github.sha }}" in production["deploy"]["steps"][1]["with"]["call"]

def test_the_tag_reaches_every_call_as_the_one_route_validated():
    tagged = [(jobs("deploy-staging.yml"), ("package", "plan", "accept")), (jobs("deploy-production.yml"), ("plan",))]
    for workflow, names in tagged:
        for name in names:
            assert "--tag ${{ needs.route.outputs.tag }}" in workflow[name]["steps"][1]["with"]["call"], name
            assert "route" in workflow[name]["needs"], f"{name}: needs.route is there only for a job needing route"


def test_no_call_splices_pusher_chosen_text_into_the_script():
    """dagger-for-github pastes `call:` into a bash script: a tag or branch name may hold ; $ or backticks."""
    for path in pipeline_workflows():
        assert spliced_text(load(path)) == [], path.name
    assert spliced_text(dagger_call("route --source . --event push --ref ${{ github.ref }}")) == [
        "j: github.ref spliced into the script; pass it in the step's env"]
    for text in ("github.ref_name", "github.head_ref", "github.event.head_commit.message",
                 "github.event.pull_request.head.repo.full_name != 'x'"):
        assert spliced_text(dagger_call(f"accept --source . --tag ${{{{ {text} }}}}")), text
    typed = ("ci --source . --pull-request ${{ github.event.pull_request.number || 0 }} "
             "--base=${{ github.event.before }}")
    assert spliced_text(dagger_call(typed)) == [] and spliced_text(dagger_call('route --ref "$REF"')) == []


def test_the_deployment_plan_goes_to_the_job_summary():
    """dagger-for-github's own summary (enable-github-summary, summary-path) holds only the command, the trace link
    and the version; the plan itself is the call's result, written there with `dagger call -o`."""
    for workflow in ("deploy-staging.yml", "deploy-production.yml"):
        step = jobs(workflow)["plan"]["steps"][1]
        assert step["with"]["call"].startswith("deployment-plan --source examples/coagent")
        assert step["with"]["call"].endswith('-o "$GITHUB_STEP_SUMMARY"')
        assert "enable-github-summary" not in step["with"]


def test_rollback_passes_the_release_input_through_the_environment_never_into_the_script():
    step = jobs("rollback.yml")["rollback"]["steps"][1]
    assert step["env"]["ROLLBACK_TO"] == "${{ inputs.release }}"
    assert '--to="$ROLLBACK_TO"' in step["with"]["call"] and "inputs.release" not in step["with"]["call"]


def test_ci_passes_the_pull_request_comment_flags():
    job = jobs("ci.yml")["ci"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    call = job["steps"][1]["with"]["call"]
    assert "--pull-request ${{ github.event.pull_request.number || 0 }}" in call
    assert '--from-fork="$FROM_FORK"' in call  # a bool flag takes its value after `=`
    from_fork = job["steps"][1]["env"]["FROM_FORK"]
    assert from_fork == ("${{ github.event_name == 'pull_request' && "
                         "github.event.pull_request.head.repo.full_name != github.repository }}")
    assert "--github-token env://GITHUB_TOKEN --github-repository ${{ github.repository }}" in call


def test_the_shape_check_can_fail():
    checkout = {"uses": "actions/checkout@v4"}
    step = {"uses": "dagger/dagger-for-github@v8.4.1", "with": {"version": ENGINE, "call": "ci --source ."}}
    assert shape_problems({"jobs": {"a": {"steps": [checkout, step]}}}, ENGINE, None) == []
    assert shape_problems({"jobs": {"a": {"steps": [checkout, step]}}}, ENGINE, "github.com/x/y@v1") == [
        "a: does not call github.com/x/y@v1 with --source ."]
    assert shape_problems({"jobs": {"a": {"steps": [checkout, step, {"run": "make"}]}}}, ENGINE, None)
    assert shape_problems({"jobs": {"a": {"steps": [step, checkout]}}}, ENGINE, None)
    old = {**step, "with": {**step["with"], "version": "v0.18.0"}}
    assert shape_problems({"jobs": {"a": {"steps": [checkout, old]}}}, ENGINE, None) == [
        f"a: version v0.18.0 is not the engine {ENGINE}"]
