"""`deployment-plan --env NAME --release REF`: the plan reviewers approve on, filled from evidence the pipeline has.

AWS first (`ci.delivery.plan_evidence`: the release, its change set, the states), then git through the executor (the
`plan/history` step: the lockfile and the commits since the deployed release), then GitHub with a token (the check
runs of the commit, the tag's release notes); each answer says where it came from, and what could not be read is
`unknown` with why, never a tick. Both faces call `deployment_plan`.
"""

from __future__ import annotations

import json
import sys

import anyio

from ci.core.errors import UsageError
from ci.core.executor import Executor
from ci.core.scheduler import run_steps
from ci.delivery import credentials, plan, plan_evidence, plan_history, target
from ci.delivery.aws import connect
from ci.integrations import github_evidence
from ci.integrations.github_rest import Client, GitHubError
from ci.pipeline import github_records
from ci.pipeline.runner import load

FUNCTION = "deployment_plan"
FORMATS = ("markdown", "json")
NO_TOKEN = "unknown: no --github-token"


async def deployment_plan(executor: Executor, env_name: str, ref: str, given: credentials.Given,
                          from_given: credentials.Given, github: Client | None = None, tag: str = "",
                          fmt: str = "markdown") -> str:
    """The plan as Markdown (or its evidence as JSON)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: the plan is markdown or json")
    if not ref.strip():
        raise UsageError("--release: name the release to plan, its id (the commit's full SHA) or a tag")
    config = await load(executor)
    environment = target.environment(config, env_name)
    ctx, aws = await anyio.to_thread.run_sync(connect, config, env_name, given)
    before = None
    if environment.promote_from:
        from_ctx, from_aws = await anyio.to_thread.run_sync(connect, config, environment.promote_from, from_given)
        before = plan_evidence.Where(from_aws, from_ctx)
    found = await anyio.to_thread.run_sync(plan_evidence.gather, plan_evidence.Where(aws, ctx), before, ref)
    history, why = await _history(executor, found)
    notes_tag = tag or (ref if ref != found.release_id else next(iter(found.tags), ""))
    checks, notes = await anyio.to_thread.run_sync(_github, github, found.release_id, notes_tag)
    made = assemble(env_name, found, history, why, checks, notes)
    markdown = plan.markdown(made)
    if github is not None and notes_tag:
        await anyio.to_thread.run_sync(_into_notes, github, notes_tag, markdown)
    return markdown if fmt == "markdown" else json.dumps(plan.to_json(made), indent=2) + "\n"


def _into_notes(github: Client, tag: str, markdown: str) -> None:
    """The plan in the tag's release notes too; a refusal only says so (the plan itself is the job summary)."""
    try:
        said = github_records.plan_notes(github, tag, markdown)
    except GitHubError as exc:
        said = f"the plan could not be written into {tag}'s release notes: {exc}"
    print(f"deployment-plan: {said}", file=sys.stderr)


async def _history(executor: Executor, found: plan_evidence.Found) -> tuple[plan_history.History | None, str]:
    """The git history since the deployed release, or why there is none to read."""
    if found.state_why:
        return None, found.state_why
    step = plan_history.step(found.release_id, found.deployed)
    report = await run_steps(FUNCTION, executor, [step])
    result = next(s for s in report.steps if s.id == step.id)
    if result.status != "passed":
        return None, f"{step.id} {result.status}: {result.reason.splitlines()[0] if result.reason else ''}".strip()
    return plan_history.parse(report.artifacts[f"{step.id}/{plan_history.REPORT}"]), ""


def _github(github: Client | None, sha: str, tag: str) -> tuple[tuple[plan.Item, ...], plan.Item]:
    """The commit's check items and the notes item, each `unknown` with why when GitHub could not say."""
    if github is None:
        return plan.check_items(NO_TOKEN, sha), plan.notes_item(tag, None, NO_TOKEN)
    try:
        checks = plan.check_items(github_evidence.check_runs(github, sha), sha)
    except GitHubError as exc:
        checks = plan.check_items(f"unknown: {exc}", sha)
    if not tag:
        return checks, plan.notes_item("", None, "unknown: the release has no tag; pass --tag")
    try:
        return checks, plan.notes_item(tag, github_evidence.release_notes(github, tag))
    except GitHubError as exc:
        return checks, plan.notes_item(tag, None, f"unknown: {exc}")


def assemble(env_name: str, found: plan_evidence.Found, history: plan_history.History | None, why: str,
             checks: tuple[plan.Item, ...], notes: plan.Item) -> plan.Plan:
    """The plan from its evidence (pure)."""
    source = (f"git: {plan_history.LOCKFILE} and commits {found.deployed[:12]}..{found.release_id[:12]}"
              if found.deployed else "git")
    lock, commits, lock_why = None, None, why
    if history is not None and history.base:
        commits = history.commits
        if history.before is None and history.after is None:
            lock_why = (f"no {plan_history.LOCKFILE} in the app's directory at {history.base[:12]} or at "
                        f"{history.head[:12]}: the wrong --repo-path, or the app keeps no lockfile")
        else:
            try:
                lock = plan.lock_diff(history.before or "{}", history.after or "{}")
            except (ValueError, AttributeError) as exc:
                lock_why = f"{plan_history.LOCKFILE} could not be read: {exc}"
    elif history is not None:
        why = lock_why = ""  # a first deploy: nothing to compare with
    changes_why = found.change_set if found.changes is None else ""
    risks = (plan.database_risk(found.changes, changes_why), plan.infrastructure_risk(found.changes, changes_why),
             plan.downtime_risk(found.changes, changes_why), plan.dependency_risk(lock, source, lock_why),
             plan.breaking_risk(commits, source, why))
    return plan.Plan(env_name, found.release_id, found.deployed, (*checks, found.staging, notes, found.rollback),
                     risks, found.changes or (), found.change_set)
