"""The deployment plan: the pure plan on planted evidence (a table replacement, a lockfile change, a breaking commit),
its parts (lockfile diff, conventional commits, check runs, notes), the git history script on a real repository, the
GitHub requests against GitHub's OpenAPI description, and the AWS evidence against moto (the change set always
deleted, the release read from the environment before when it is not copied yet)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci.delivery import plan, plan_history
from ci.delivery.replacement import Change
from ci.integrations import github_releases
from ci.integrations.github_evidence import CheckRun
from ci.pipeline.deployment_plan import assemble
from ci.delivery.plan_evidence import Found
from tests.gitrepo import commit, init

RELEASE, DEPLOYED = "a" * 40, "b" * 40
SCRIPT = Path(__file__).resolve().parents[2] / "ci" / "scripts" / plan_history.SCRIPT


def lock(**packages: str) -> str:
    return json.dumps({"name": "app", "lockfileVersion": 3, "packages": {
        "": {"name": "app"}, **{f"node_modules/{n}": {"version": v} for n, v in packages.items()}}})


PLANTED_CHANGES = (
    Change("Modify", "ListingsTable", "AWS::DynamoDB::Table", "True"),
    Change("Modify", "ApiFunction", "AWS::Lambda::Function", "False"),
    Change("Add", "Jobs", "AWS::SQS::Queue"),
)
PLANTED_COMMITS = (
    {"sha": "c" * 40, "subject": "feat(api)!: listings are keyed by owner", "body": ""},
    {"sha": "d" * 40, "subject": "fix: trim titles", "body": "BREAKING CHANGE: titles over 80 characters are refused"},
    {"sha": "e" * 40, "subject": "chore: bump next", "body": ""},
)


def planted(changes=PLANTED_CHANGES, deployed: str | None = DEPLOYED, state_why: str = "") -> Found:
    return Found(RELEASE, ("rc-1.4.0",), deployed, state_why, changes,
                 f"UPDATE change set bayon-deploy-1 of release {RELEASE[:12]} (from s3://b) for s: 3 change(s); "
                 "deleted, never executed",
                 plan.staging_item("staging", {"finished": "2026-12-01T12:00:00Z", "run_id": "41-1"}, RELEASE),
                 plan.rollback_item("production", DEPLOYED))


def history(before: str | None, after: str | None, commits=PLANTED_COMMITS) -> plan_history.History:
    return plan_history.History(DEPLOYED, RELEASE, before, after, tuple(commits))


GREEN = [CheckRun("checks", "completed", "success"), CheckRun("security", "completed", "success")]


# 1. the plan on planted evidence

def test_the_plan_derives_the_risks_from_a_table_replacement_a_lockfile_change_and_a_breaking_commit():
    made = assemble("production", planted(), history(lock(next="14.2.0", zod="3.22.0"),
                                                     lock(next="15.0.1", zod="3.22.0", ky="1.2.0")), "",
                    plan.check_items(GREEN, RELEASE), plan.notes_item("rc-1.4.0", "Adds owners."))
    risks = {r.label: r for r in made.risks}
    assert risks["Database changes"].level == "high"
    assert risks["Database changes"].rows == ("Modify ListingsTable (AWS::DynamoDB::Table, replaced)",)
    assert risks["Infrastructure changes"].level == "high" and "ListingsTable" in risks["Infrastructure changes"].summary
    assert risks["Expected downtime"].level == "high"
    assert risks["Dependency updates"].rows == ("added ky 1.2.0", "upgraded next 14.2.0 -> 15.0.1")
    assert risks["Dependency updates"].level == "medium" and "1 major: next" in risks["Dependency updates"].summary
    assert risks["Breaking changes"].rows == ("cccccccccccc: listings are keyed by owner",
                                              "dddddddddddd: titles over 80 characters are refused")
    assert made.overall == "high"
    assert [i.answer for i in made.checklist] == ["yes"] * 6
    text = plan.markdown(made)
    assert text.startswith(f"## Deployment plan: {RELEASE[:12]} to production\n")
    assert "Overall risk: **high**" in text
    assert ("- [x] Security scans passed (audit, secrets, SAST, licenses): security: success _(source: GitHub check "
            f"runs of {RELEASE[:12]})_") in text
    assert ("- [x] Deployed and verified on the environment before: deployed 2026-12-01T12:00:00Z by run 41-1 "
            "_(source: the state of staging)_") in text
    assert "| Database changes | high | a table is removed or replaced: its data does not carry over |" in text
    assert "- upgraded next 14.2.0 -> 15.0.1" in text and "deleted, never executed" in text


def test_a_quiet_release_is_low_risk_and_says_so():
    made = assemble("production", planted(changes=(Change("Modify", "ApiFunction", "AWS::Lambda::Function",
                                                          "False"),)),
                    history(lock(next="15.0.1"), lock(next="15.0.2"), PLANTED_COMMITS[2:]), "",
                    plan.check_items(GREEN, RELEASE), plan.notes_item("rc-1.4.0", "Notes."))
    assert [(r.label, r.level) for r in made.risks] == [
        ("Database changes", "none"), ("Infrastructure changes", "low"), ("Expected downtime", "none"),
        ("Dependency updates", "low"), ("Breaking changes", "none")]
    assert made.overall == "low"


def test_what_could_not_be_read_is_unknown_never_ticked():
    made = assemble("production", planted(changes=None), None, "plan/history crashed: the deployed release's commit "
                    "is not in this repository", plan.check_items("unknown: no --github-token", RELEASE),
                    plan.notes_item("rc-1.4.0", None, "unknown: no --github-token"))
    assert [i.answer for i in made.checklist[:3]] == ["unknown"] * 3 and made.checklist[4].answer == "unknown"
    assert {r.level for r in made.risks} == {"unknown"} and made.overall == "unknown"
    text = plan.markdown(made)
    assert "- [ ] Quality gates passed (lint, types, format, build): **unknown** _(source: unknown: no " in text
    assert "| Breaking changes | unknown | plan/history crashed: the deployed release's commit is not in" in text


def test_a_lockfile_at_neither_commit_is_unknown_with_why_never_unchanged():
    made = assemble("production", planted(changes=()), history(None, None, PLANTED_COMMITS[2:]), "",
                    plan.check_items(GREEN, RELEASE), plan.notes_item("rc-1.4.0", "Notes."))
    risks = {r.label: r for r in made.risks}
    assert risks["Dependency updates"].level == "unknown"
    assert risks["Dependency updates"].summary == (
        f"no package-lock.json in the app's directory at {DEPLOYED[:12]} or at {RELEASE[:12]}: the wrong --repo-path, "
        "or the app keeps no lockfile")
    assert risks["Breaking changes"].level == "none"  # the commits were read
    assert made.overall == "unknown"  # the known ones are none
    added = assemble("production", planted(changes=()), history(None, lock(next="15.0.1"), ()), "",
                     plan.check_items(GREEN, RELEASE), plan.notes_item("rc-1.4.0", "Notes."))
    assert [r.rows for r in added.risks if r.label == "Dependency updates"] == [("added next 15.0.1",)]


@pytest.mark.parametrize("levels, overall", [
    (("low", "unknown"), "unknown (at least low)"),
    (("medium", "low", "unknown"), "unknown (at least medium)"),
    (("none", "unknown"), "unknown"),
    (("unknown", "unknown"), "unknown"),
    (("high", "unknown"), "high"),
    (("none", "low"), "low"),
    (("none", "none"), "none"),
])
def test_the_overall_risk_never_reads_lower_than_what_could_not_be_read(levels, overall):
    made = plan.Plan("production", RELEASE, DEPLOYED, (), tuple(plan.Risk(f"r{i}", level, "s", "src")
                                                                for i, level in enumerate(levels)))
    assert made.overall == overall
    assert f"Overall risk: **{overall}**." in plan.markdown(made)


def test_a_first_deploy_has_nothing_to_compare_or_roll_back_to():
    found = planted(deployed=None)
    made = assemble("dev", found, plan_history.History(None, RELEASE, None, lock(next="15.0.1"), ()), "",
                    plan.check_items(GREEN, RELEASE), plan.notes_item("", None, "unknown: no tag"))
    risks = {r.label: r for r in made.risks}
    assert risks["Dependency updates"].summary == "first deploy: nothing to compare with"
    assert risks["Breaking changes"].summary == "first deploy: no earlier release"
    assert plan.rollback_item("dev", None, first=True).answer == "n/a"


# 2. the parts

def test_the_lockfile_diff_reads_v3_and_v1_lockfiles():
    v1 = json.dumps({"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "dependencies": {
        "b": {"version": "2.0.0"}}}}})
    assert plan.lock_packages(v1) == {"a": "1.0.0", "a/node_modules/b": "2.0.0"}
    diff = plan.lock_diff(lock(a="1.0.0", b="2.0.0"), lock(a="1.1.0", c="0.1.0"))
    assert diff == plan.LockDiff((("c", "0.1.0"),), (("b", "2.0.0"),), (("a", "1.0.0", "1.1.0"),))
    assert plan.dependency_risk(diff, "git").level == "medium"  # a removal


@pytest.mark.parametrize("subject, body, said", [
    ("feat!: drop v1 routes", "", "drop v1 routes"),
    ("refactor(db)!: new keys", "", "new keys"),
    ("feat: x", "Long text.\n\nBREAKING CHANGE: the config key moved", "the config key moved"),
    ("feat: x", "BREAKING-CHANGE: env vars renamed", "env vars renamed"),
    ("feat: add owners", "", None),
    ("Merge branch 'main'", "", None),
    ("fix: mention breaking change: in prose", "a breaking change: is not a footer", None),
])
def test_breaking_changes_are_read_from_conventional_commits(subject, body, said):
    assert plan.breaking({"sha": "c" * 40, "subject": subject, "body": body}) == said


def test_check_runs_tick_only_when_every_run_of_the_job_finished_green():
    runs = [CheckRun("checks (20)", "completed", "success"), CheckRun("checks (22)", "completed", "failure"),
            CheckRun("security", "in_progress", None)]
    quality, tests, security = plan.check_items(runs, RELEASE)
    assert (quality.answer, quality.detail) == ("no", "checks (20): success, checks (22): failure")
    assert (security.answer, security.detail) == ("no", "security: in_progress (not finished)")
    assert plan.check_items([], RELEASE)[2].detail == "no check run named security"


@pytest.mark.parametrize("conclusion", ["skipped", "neutral"])
def test_only_a_green_run_ticks_a_skipped_or_neutral_job_checked_nothing(conclusion):
    runs = [CheckRun("checks", "completed", "success"), CheckRun("security", "completed", conclusion)]
    security = plan.check_items(runs, RELEASE)[2]
    assert (security.answer, security.detail) == ("no", f"security: {conclusion}")
    made = assemble("production", planted(), None, "", plan.check_items(runs, RELEASE), plan.notes_item("t", "N."))
    assert f"- [ ] Security scans passed (audit, secrets, SAST, licenses): **no** (security: {conclusion})" in (
        plan.markdown(made))


def test_release_notes_do_not_count_the_pipelines_own_sections():
    ours = "<!-- bayon:deployment-plan -->\n## Deployment plan\n<!-- /bayon:deployment-plan -->"
    assert plan.notes_item("v1.4.0", ours).answer == "no"
    assert plan.notes_item("v1.4.0", f"Adds owners.\n{ours}").answer == "yes"
    assert plan.notes_item("v1.4.0", None).detail == "no such GitHub release"


def test_the_sections_ignored_are_exactly_what_the_release_notes_writer_writes():
    written = github_releases.with_section("", "deployment-plan", "## Deployment plan\n\n- [x] ok")
    written = github_releases.with_section(written, "accept-report", "all green")
    assert plan.notes_item("v1.4.0", written).answer == "no"
    people = github_releases.with_section("Adds owners.", "deployment-plan", "## Deployment plan")
    assert (plan.notes_item("v1.4.0", people).answer, plan.notes_item("v1.4.0", people).detail) == (
        "yes", "12 characters")


# 3. the git history script, on a real repository

def run_script(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def test_the_history_script_reports_the_lockfile_at_both_commits_and_the_commits_between(tmp_path):
    repo = init(tmp_path / "repo")
    base = commit(repo, {"app/package-lock.json": lock(next="14.2.0"), "README.md": "x"}, "feat: first")
    commit(repo, {"README.md": "y"}, "docs: outside the app")
    head = commit(repo, {"app/package-lock.json": lock(next="15.0.1")},
                  "chore(deps)!: next 15\n\nBREAKING CHANGE: Node 18 is gone")
    out = tmp_path / "history.json"
    done = run_script(repo / "app", "--head", head, "--base", base, "--output", str(out))
    assert done.returncode == 0, done.stderr
    found = plan_history.parse(out.read_bytes())
    assert (found.base, found.head) == (base, head)
    assert json.loads(found.before)["packages"]["node_modules/next"]["version"] == "14.2.0"
    assert json.loads(found.after)["packages"]["node_modules/next"]["version"] == "15.0.1"
    assert found.commits == ({"sha": head, "subject": "chore(deps)!: next 15",
                              "body": "BREAKING CHANGE: Node 18 is gone"},)  # the docs commit is outside the app


def test_the_history_script_refuses_an_unknown_commit_in_one_line(tmp_path):
    repo = init(tmp_path / "repo")
    head = commit(repo, {"package-lock.json": lock()})
    done = run_script(repo, "--head", head, "--base", "f" * 40, "--output", str(tmp_path / "h.json"))
    assert done.returncode == 3
    assert done.stderr.strip() == (f"the deployed release's commit {'f' * 40} is not in this repository; fetch it, "
                                   "or pass the right commit")


def test_the_history_step_runs_in_the_repository_with_git():
    step = plan_history.step(RELEASE, DEPLOYED)
    assert step.in_repo and step.tool_image and "git" in step.tool_install[1]
    assert step.argv[2:6] == ("--head", RELEASE, "--base", DEPLOYED)
    assert "--base" not in plan_history.step(RELEASE, None).argv


# 4. the AWS evidence, against moto

SHARES_MOTO = True


@pytest.fixture
def worlds(moto_url):
    from tests.delivery.deploy_world import World

    made = World(moto_url, "production"), World(moto_url, "staging", alarm=False)
    yield made
    for world in made:
        world.close()


def _stored_in(world, commit_sha: str, body: dict) -> str:
    """A release packaged for both environments, stored in `world`'s bucket only."""
    from ci.delivery import release
    from tests.delivery.deploy_world import NOW

    files = {release.TEMPLATE: json.dumps(release.portable(body, world.bucket)).encode(),
             release.PARAMETERS: json.dumps({"staging": {}, "production": {}}).encode()}
    return release.store(world.s3, world.bucket, commit_sha, ("rc-1.4.0",), files, NOW).release_id


def _green_on(world, release_id: str) -> None:
    from ci.delivery import state

    store = state.Store(world.s3, world.bucket, world.name)
    found, etag = store.load()
    store.save(found.recorded(state.Deployment(release=release_id, kind="deploy", outcome="deployed",
                                               started="2026-12-01T11:50:00Z", finished="2026-12-01T12:00:00Z",
                                               run_id="41-1", previous=None)), etag)


def test_the_plan_reads_the_release_from_the_environment_before_and_always_deletes_its_change_set(worlds):
    from ci.delivery.deploy import Request, deploy
    from ci.delivery.phase_log import PhaseLog
    from ci.delivery.plan_evidence import Where, gather
    from ci.delivery import stack
    from tests.delivery.deploy_world import COMMITS, template

    production, staging = worlds
    first = production.store(COMMITS[0], template(production.stack_name))
    assert deploy(production.aws(), production.context(), Request(first), PhaseLog()).outcome == "deployed"
    rekeyed = template(production.stack_name)
    rekeyed["Resources"]["ListingsTable"]["Properties"]["KeySchema"] = [{"AttributeName": "owner", "KeyType": "HASH"}]
    rekeyed["Resources"]["ListingsTable"]["Properties"]["AttributeDefinitions"] = [
        {"AttributeName": "owner", "AttributeType": "S"}]
    second = _stored_in(staging, COMMITS[1], rekeyed)
    _green_on(staging, second)
    cfn = production.client("cloudformation")
    executed = cfn.list_change_sets(StackName=production.stack_name)["Summaries"]  # the deploy's, executed

    found = gather(Where(production.aws(), production.context()), Where(staging.aws(), staging.context()), second)
    assert (found.release_id, found.deployed, found.tags) == (second, first, ("rc-1.4.0",))
    assert Change("Modify", "ListingsTable", "AWS::DynamoDB::Table", "True", "template diff") in found.changes
    assert f"(from s3://{staging.bucket})" in found.change_set and "deleted, never executed" in found.change_set
    assert cfn.list_change_sets(StackName=production.stack_name)["Summaries"] == executed
    assert stack.tagged_release(cfn, production.stack_name) == first  # nothing executed
    assert (found.staging.answer, found.staging.detail) == ("yes", "deployed 2026-12-01T12:00:00Z by run 41-1")
    assert (found.rollback.answer, found.rollback.detail) == ("yes", f"{first[:12]}, every object's checksum verified")
    assert plan.database_risk(found.changes).level == "high"


def test_a_release_without_a_green_record_before_is_not_ticked_and_an_unknown_one_is_refused(worlds):
    from ci.delivery.plan_evidence import PlanError, Where, gather
    from tests.delivery.deploy_world import COMMITS, template

    production, staging = worlds
    other = _stored_in(staging, COMMITS[2], template(production.stack_name))
    found = gather(Where(production.aws(), production.context()), Where(staging.aws(), staging.context()), other)
    assert (found.staging.answer, found.rollback.answer, found.deployed) == ("no", "n/a", None)
    assert found.change_set.startswith("CREATE change set")
    cfn = production.client("cloudformation")
    assert not [s for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"] == production.stack_name and s["StackStatus"] != "DELETE_COMPLETE"]
    with pytest.raises(PlanError, match=f"release {'9' * 40} is not in s3://{production.bucket}"):
        gather(Where(production.aws(), production.context()), None, "9" * 40)


# 5. through bayon: the history step run by the local executor over the app's git checkout

def test_bayon_prints_the_plan_from_aws_and_the_git_history(moto_url, tmp_path, monkeypatch, capsys):
    from ci.cli.app import main
    from tests.delivery.deploy_world import World, template

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPLANTEDPLANKEY01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted-plan-secret-7c1d")
    world = World(moto_url, "plan-cli", alarm=False)
    try:
        repo = init(tmp_path / "repo")
        app = {"app/package.json": '{"name": "app", "version": "1.0.0"}', "app/pipeline.yaml": world.config_text}
        first = commit(repo, {**app, "app/package-lock.json": lock(next="14.2.0")}, "feat: listings")
        second = commit(repo, {"app/package-lock.json": lock(next="15.0.1")}, "feat(api)!: keyed by owner")
        _green_on(world, world.store(first, template(world.stack_name)))
        world.store(second, template(world.stack_name))

        code = main(["deployment-plan", "--env", "plan-cli", "--release", second, "--source", str(repo / "app")])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert f"Now deployed there: {first[:12]}. Overall risk: **high**." in out
        assert f"- [x] Rollback target available: {first[:12]}, every object's checksum verified" in out
        assert "- [ ] Tests passed (unit, integration): **unknown** _(source: unknown: no --github-token)_" in out
        assert "- upgraded next 14.2.0 -> 15.0.1" in out and f"- {second[:12]}: keyed by owner" in out
        assert "CREATE change set" in out and "deleted, never executed" in out
        assert "planted-plan-secret" not in out + err

        code = main(["deployment-plan", "--env", "plan-cli", "--release", second, "--source", str(repo / "app"),
                     "--format", "json"])
        data = json.loads(capsys.readouterr().out)
        assert (code, data["overall"], data["deployed"]) == (0, "high", first)
        assert [r["level"] for r in data["risks"]] == ["low", "low", "none", "medium", "high"]
    finally:
        world.close()


# 6. the Dagger face: the secrets read for the clients only, both environments' credentials apart

def test_the_dagger_function_hands_the_runner_a_github_client_and_both_credentials(monkeypatch):
    import asyncio

    import dagger
    from dagger import dag

    from ci.main import Ci
    from ci.pipeline import deployment_plan
    from tests import chain

    seen = {}

    async def fake(executor, env, ref, given, from_given, client, tag, fmt):
        seen.update(executor=executor, env=env, ref=ref, given=given, from_given=from_given, client=client, tag=tag,
                    fmt=fmt)
        return "## plan\n"


    monkeypatch.setattr(deployment_plan, "deployment_plan", fake)
    monkeypatch.setattr(dagger.Secret, "plaintext", chain.planted_plaintext)
    token = "ghs_" + "plantedplan" * 3
    text = asyncio.run(Ci().deployment_plan(
        source=dag.directory(), repo=dag.directory(), env="production", release=RELEASE, tag="v1.4.0",
        github_token=dag.set_secret("gh", token), github_repository="octo-org/coagent",
        aws_role_arn="arn:aws:iam::111111111111:role/prod", from_aws_role_arn="arn:aws:iam::222222222222:role/stg",
        oidc_request_url="https://token.actions.example/x", oidc_request_token=dag.set_secret("oidc", "oidc-t0k")))
    assert text == "## plan\n"
    assert (seen["env"], seen["ref"], seen["tag"], seen["fmt"]) == ("production", RELEASE, "v1.4.0", "markdown")
    assert (seen["given"].role_arn, seen["from_given"].role_arn) == ("arn:aws:iam::111111111111:role/prod",
                                                                     "arn:aws:iam::222222222222:role/stg")
    assert seen["client"].repository == "octo-org/coagent" and token not in repr(seen["client"])
    assert seen["executor"].repo is not None  # the history step reads the repository


def test_a_plan_in_another_format_or_without_a_release_is_refused_with_exit_2(tmp_path, capsys):
    from ci.cli.app import main

    assert main(["deployment-plan", "--env", "dev", "--release", RELEASE, "--format", "table",
                 "--source", str(tmp_path)]) == 2
    assert "--format table: the plan is markdown or json" in capsys.readouterr().err
    assert main(["deployment-plan", "--env", "dev", "--release", " ", "--source", str(tmp_path)]) == 2
    assert "--release: name the release to plan" in capsys.readouterr().err
