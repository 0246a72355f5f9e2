"""Who hears about a deploy or a rollback, around the run itself: GitHub (the deployment and its statuses, given a
token) and the channels of `notifications` (Slack, PagerDuty). Each says what it did as an info finding, or as a
warning when it could not: none of them fails, blocks or delays a deploy beyond its own timeout. A deploy first
checks the approval timeout (`ci.pipeline.approval`): a run that waited too long for its approvals deploys nothing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import anyio

from ci.config import Config
from ci.core.report import Finding, Report, StepResult
from ci.delivery import notify, release
from ci.integrations import github_deployments
from ci.integrations.github_rest import Client, GitHubError
from ci.pipeline import approval

Function = Literal["deploy", "rollback"]
STATES = {"deployed": "success", "rolled_back": "failure", "unrecoverable": "error", "unchanged": "failure"}
"""The GitHub deployment state of each outcome (a manual rollback that went back is a success)."""


@dataclass(frozen=True)
class Audience:
    """Where a deploy or rollback is announced: a GitHub client (and the Actions run and job it runs in) and the
    notification secrets' values (read for the HTTP calls only, never printed)."""

    github: Client | None = None
    run_id: str = ""
    job: str = ""
    slack_webhook: str | None = field(default=None, repr=False)
    pagerduty_key: str | None = field(default=None, repr=False)

    @property
    def run_url(self) -> str:
        if self.github is None or not self.run_id:
            return ""
        return f"https://github.com/{self.github.repository}/actions/runs/{self.run_id}"


async def announced(function: Function, config: Config, env_name: str, ref: str, audience: Audience,
                    run: Callable[[], Awaitable[Report]]) -> Report:
    """`run` (the deploy or rollback), its GitHub deployment marked in progress before and with its outcome after
    (`ref` empty: the run picks the release, the deployment is recorded after it), then the notifications; their
    findings added to the report."""
    environment = config.environments[env_name]
    said: list[Finding] = []
    started = time.monotonic()
    if function == "deploy":
        waited = await anyio.to_thread.run_sync(approval.approval_check, environment, env_name, audience.github,
                                                audience.run_id, audience.job)
        if waited.over:
            report = _refused(function, env_name, ref, waited.line, time.monotonic() - started)
            return _notified(config, function, env_name, audience, report, said)
        if environment.approval_timeout_hours is not None:
            said.append(_finding("github/approval", "info", waited.line))
    github_env = environment.github_environment or env_name
    if ref:
        deployment = await anyio.to_thread.run_sync(_started, function, github_env, env_name, ref, audience, said)
        report = await run()
    else:  # the release is known once the run chose it (a rollback to the last known good): recorded after
        report = await run()
        chosen = report.delivery.get("release") or ""
        deployment = (await anyio.to_thread.run_sync(_started, function, github_env, env_name, chosen, audience, said)
                      if chosen else None)
    if deployment is not None:
        await anyio.to_thread.run_sync(_finished, audience, deployment, report, environment.site_url or "", said)
    return _notified(config, function, env_name, audience, report, said)


def _refused(function: Function, env_name: str, ref: str, why: str, duration_s: float) -> Report:
    step = StepResult(f"{function}/approval", "github", "failed", reason=why, duration_s=duration_s)
    return Report(function, (step,), (), duration_s, stages={function: (step.id,)}, outcome="unchanged",
                  delivery={"environment": env_name, "release": ref, "reason": f"{why}; this deploy changed nothing"})


def _started(function: Function, github_env: str, env_name: str, ref: str, audience: Audience,
             said: list[Finding]) -> int | None:
    """The run's GitHub deployment (the Actions job's own when it has one), marked in progress; None without a
    token or when GitHub refused (a warning)."""
    if audience.github is None:
        return None
    sha = ref.lower() if release.SHA.fullmatch(ref) else ""
    try:
        found = github_deployments.find_or_create(audience.github, github_env, sha, ref, audience.run_id,
                                                  f"bayon {function} of {notify.short(ref)} to {env_name}")
        github_deployments.status(audience.github, found, "in_progress", f"{function} of {notify.short(ref)}",
                                  log_url=audience.run_url)
    except GitHubError as exc:
        said.append(_finding("github/deployment", "warning", f"the GitHub deployment was not recorded: {exc}"))
        return None
    return found


def _finished(audience: Audience, deployment: int, report: Report, site_url: str, said: list[Finding]) -> None:
    """The deployment's final status: its outcome, what it runs now, the environment's URL when it deployed."""
    outcome = report.outcome or ("deployed" if report.passed else "unchanged")
    state = "success" if report.passed else STATES.get(outcome, "failure")
    description = report.delivery.get("reason") or f"{report.function}: {outcome}"
    try:
        github_deployments.status(audience.github, deployment, state, description,
                                  environment_url=site_url if report.passed else "", log_url=audience.run_url)
    except GitHubError as exc:
        said.append(_finding("github/deployment", "warning", f"the GitHub deployment status was not set: {exc}"))
    else:
        said.append(_finding("github/deployment", "info", f"GitHub deployment {deployment}: {state}"))


def _notified(config: Config, function: Function, env_name: str, audience: Audience, report: Report,
              said: list[Finding]) -> Report:
    """The report with what GitHub and the notification channels said about it."""
    links = {label: url for label, url in (("Run", audience.run_url),
                                          ("Site", config.environments[env_name].site_url or "")) if url}
    event = notify.Event(function, env_name, report.delivery.get("release") or "", report.outcome or "unchanged",
                         report.duration_s, links, report.delivery.get("reason") or "")
    sent = notify.send(config.notifications, event, audience.slack_webhook, audience.pagerduty_key)
    return replace(report, findings=(*report.findings, *said, *sent))


def _finding(rule: str, severity: str, message: str) -> Finding:
    return Finding(rule, "github", rule, severity, None, None, None, message)
