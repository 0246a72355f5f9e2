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
from ci.core.errors import BayonError
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
        return f"{self.github.web_url}/{self.github.repository}/actions/runs/{self.run_id}"


async def announced(function: Function, config: Config, env_name: str, ref: str, audience: Audience,
                    run: Callable[[], Awaitable[Report]]) -> Report:
    """`run` (the deploy or rollback), its GitHub deployment marked in progress before and with its outcome after
    (`ref` empty: the run picks the release, the deployment is recorded after it), then the notifications; their
    findings added to the report."""
    environment = config.environments[env_name]
    said: list[Finding] = []
    started = time.monotonic()
    if function == "deploy":
        try:
            waited = await anyio.to_thread.run_sync(approval.approval_check, environment, env_name, audience.github,
                                                    audience.run_id, audience.job)
        except GitHubError as exc:  # fail closed: an unknown wait is no approval in time
            report = _refused(function, env_name, ref, f"the approval timeout could not be checked: {exc}",
                              time.monotonic() - started)
            return _notified(config, function, env_name, audience, report, said)
        if waited.over:
            report = _refused(function, env_name, ref, waited.line, time.monotonic() - started)
            return _notified(config, function, env_name, audience, report, said)
        if environment.approval_timeout_hours is not None:
            said.append(_finding("github/approval", "info", waited.line))
    github_env = environment.github_environment or env_name
    production = _last_of_chain(config, env_name)
    deployment = (await anyio.to_thread.run_sync(_started, function, github_env, env_name, ref, production, audience,
                                                 said) if ref else None)
    try:
        report = await run()
    except Exception as exc:  # still ends the deployment and is heard about, then goes on up
        if isinstance(exc, BayonError):  # refused before it changed anything (credentials, config)
            crashed = _refused(function, env_name, ref, str(exc), time.monotonic() - started,
                               step_id=f"{function}/start")
        else:
            crashed = _refused(function, env_name, ref, f"{function} crashed ({type(exc).__name__}: {exc}); where "
                               f"{env_name} stands is unknown: see `bayon history --env {env_name}`",
                               time.monotonic() - started, outcome="unrecoverable", step_id=f"{function}/crash")
        if deployment is not None:
            await anyio.to_thread.run_sync(_finished, audience, deployment, crashed, "", said)
        _notified(config, function, env_name, audience, crashed, said)
        raise
    if not ref and report.delivery.get("release"):  # the run chose the release (a rollback's default): now known
        deployment = await anyio.to_thread.run_sync(_started, function, github_env, env_name,
                                                    report.delivery["release"], production, audience, said)
    if deployment is not None:
        await anyio.to_thread.run_sync(_finished, audience, deployment, report, environment.site_url or "", said)
    return _notified(config, function, env_name, audience, report, said)


def _last_of_chain(config: Config, env_name: str) -> bool:
    """Whether end users meet this environment (GitHub's production_environment): releases are promoted into it
    and from it to nowhere."""
    return (config.environments[env_name].promote_from is not None
            and all(e.promote_from != env_name for e in config.environments.values()))


def _refused(function: Function, env_name: str, ref: str, why: str, duration_s: float,
             outcome: str = "unchanged", step_id: str = "") -> Report:
    """The report of a run refused before it started (the approval timeout), or of one that raised."""
    step = StepResult(step_id or f"{function}/approval", "bayon", "failed", reason=why, duration_s=duration_s)
    said = f"{why}; this {function} changed nothing" if outcome == "unchanged" else why
    return Report(function, (step,), (), duration_s, stages={function: (step.id,)}, outcome=outcome,
                  delivery={"environment": env_name, "release": ref, "reason": said})


def _started(function: Function, github_env: str, env_name: str, ref: str, production: bool, audience: Audience,
             said: list[Finding]) -> int | None:
    """The run's GitHub deployment (the Actions job's own when it has one), marked in progress; None without a
    token or when GitHub refused (a warning)."""
    if audience.github is None:
        return None
    sha = ref.lower() if release.SHA.fullmatch(ref) else ""
    try:
        found = github_deployments.find_or_create(audience.github, github_env, sha, ref, audience.run_id,
                                                  f"bayon {function} of {notify.short(ref)} to {env_name}", production)
        github_deployments.status(audience.github, found, "in_progress", f"{function} of {notify.short(ref)}",
                                  log_url=audience.run_url)
    except Exception as exc:  # noqa: BLE001 - a GitHub record never stops a deploy
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
    except Exception as exc:  # noqa: BLE001 - a GitHub record never fails a deploy that happened
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
