"""`configure-github`: the GitHub environments pipeline.yaml describes, made so through the REST API.

Each environment with `github_environment` gets that GitHub environment: the name patterns of its `trigger`
(branch `develop`; tags `rc-*` or `v*`; no trigger: any ref), its wait timer, and the reviewers of an approval that
names it. Each approval's environment gets its reviewers, `prevent_self_review` and the same patterns. Idempotent:
everything is read first and only what differs is written, so a second run changes nothing.
"""

from __future__ import annotations

import time

import anyio

from ci.config import Config
from ci.core.errors import UsageError
from ci.core.executor import Executor
from ci.core.report import Finding, Report, StepResult, Table
from ci.integrations import github_environments as environments
from ci.integrations.github_rest import API_URL, Client, Transport, urllib_transport
from ci.pipeline.runner import load

STEP_ID = "github/environments"
TAG_PATTERNS = {"rc": "rc-*", "release": "v*"}


def _patterns(env) -> tuple[environments.Pattern, ...]:
    if env.trigger is None:
        return ()
    if env.trigger.branch:
        return (environments.Pattern(env.trigger.branch, "branch"),)
    return (environments.Pattern(TAG_PATTERNS[env.trigger.tags], "tag"),)


def _merged(first: environments.Wanted, second: environments.Wanted, where: str) -> environments.Wanted:
    """Two environments of pipeline.yaml naming the same GitHub environment must agree on it."""
    if first.patterns != second.patterns or (first.wait_timer and second.wait_timer != first.wait_timer
                                             and second.wait_timer):
        raise UsageError(f"GitHub environment {first.name}: {where} gives it other deployment patterns or another "
                         "wait timer than an earlier environment; give each pipeline environment its own "
                         "github_environment")
    reviewers = first.reviewers or second.reviewers
    if first.reviewers and second.reviewers and first.reviewers != second.reviewers:
        raise UsageError(f"GitHub environment {first.name}: two approvals give it different reviewers ({where}); "
                         "one approval per GitHub environment")
    return environments.Wanted(first.name, reviewers, first.prevent_self_review or second.prevent_self_review,
                               max(first.wait_timer, second.wait_timer), first.patterns)


def wanted(config: Config) -> list[environments.Wanted]:
    """The GitHub environments pipeline.yaml asks for, in the order it names them."""
    found: dict[str, environments.Wanted] = {}

    def add(one: environments.Wanted, where: str) -> None:
        found[one.name] = _merged(found[one.name], one, where) if one.name in found else one

    for name, env in config.environments.items():
        patterns = _patterns(env)
        if env.github_environment:
            add(environments.Wanted(env.github_environment, wait_timer=env.wait_timer_minutes, patterns=patterns),
                f"environments.{name}")
        for index, approval in enumerate(env.approvals):
            add(environments.Wanted(approval.github_environment, tuple(approval.reviewers),
                                    approval.prevent_self_review, patterns=patterns),
                f"environments.{name}.approvals[{index}]")
    return list(found.values())


async def configure_github(executor: Executor, token: str, repository: str, dry_run: bool = False,
                           api_url: str = "", transport: Transport = urllib_transport) -> Report:
    """Create or update the environments (`dry_run`: only say what would change); one step, one row per change."""
    if not token:
        raise UsageError("--github-token: give a token with Administration: write on the repository (a "
                         "fine-grained personal access token or a GitHub App's; the workflow's GITHUB_TOKEN cannot "
                         "configure environments)")
    config = await load(executor)
    wanted_now = wanted(config)
    if not wanted_now:
        raise UsageError("configure-github: pipeline.yaml names no GitHub environment; set "
                         "environments.NAME.github_environment (and approvals) first")
    client = Client(repository, token, transport, api_url or API_URL)
    started = time.monotonic()
    outcome = await anyio.to_thread.run_sync(environments.reconcile, client, wanted_now, dry_run)
    verb = "would change" if dry_run else "changed"
    count = len(outcome.changes)
    reason = (f"{verb} {count} setting(s) of {len(wanted_now)} environment(s) of {repository}" if count
              else f"nothing to change: {len(wanted_now)} environment(s) of {repository} as pipeline.yaml says")
    step = StepResult(STEP_ID, "github", "passed", reason=reason, duration_s=time.monotonic() - started)
    gated = [w.name for w in wanted_now if w.reviewers or w.wait_timer]
    findings = (Finding(STEP_ID, "github", "github/paid-plan", "warning", None, None, None,
                        f"if this repository's plan is not Enterprise, the required reviewers or wait timers of "
                        f"{', '.join(gated)} are not available: {repository} is private; "
                        f"{environments.PAID_PLAN_RULE}"),) if outcome.private and gated else ()
    rows = tuple((c.environment, c.what) for c in outcome.changes)
    title = "changes (dry run: none made)" if dry_run else "changes"
    tables = (Table(title, ("environment", "change"), rows, STEP_ID),) if rows else ()
    return Report("configure_github", (step,), findings, duration_s=step.duration_s, tables=tables,
                  stages={"configure_github": (STEP_ID,)})
