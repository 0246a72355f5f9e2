"""Who hears about a deploy or rollback: the `notifications` config decides which channels fire for an event (Slack:
its events x its environments; PagerDuty: failures and rollbacks of its environments), each channel is sent once
within its timeout, and how it went is findings for the run's report. A notification never fails, raises or holds
the deploy beyond its timeout: a channel that fails or does not answer in time is a warning finding."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timezone
from typing import Literal

from ci.config.model import Notifications
from ci.core.report import Finding
from ci.integrations import pagerduty, slack

GRACE_S = 1.0
"""What a channel may take past its timeout (connecting, closing) before the send stops waiting for it."""
ICONS = {"success": ":white_check_mark:", "failure": ":x:", "rollback": ":rewind:"}
Kind = Literal["success", "failure", "rollback"]


@dataclass(frozen=True)
class Event:
    """How a deploy or rollback ended: `outcome` is the report's (deployed, rolled_back, unrecoverable,
    unchanged); `links` label -> URL (the run, the environment's URL, the incident); `reason` the report's."""

    function: Literal["deploy", "rollback"]
    environment: str
    release: str
    outcome: str
    duration_s: float
    links: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""


def kind(event: Event) -> Kind:
    """success: a deploy that deployed; rollback: any run that ended rolled back; failure: the rest (nothing
    changed, or at no known release)."""
    if event.outcome == "rolled_back":
        return "rollback"
    return "success" if event.function == "deploy" and event.outcome == "deployed" else "failure"


def channels(config: Notifications, event: Event) -> tuple[str, ...]:
    """The channels the config fires for this event."""
    fired = []
    if config.slack and kind(event) in config.slack.events and (
            not config.slack.environments or event.environment in config.slack.environments):
        fired.append("slack")
    if config.pagerduty and kind(event) != "success" and event.environment in config.pagerduty.environments:
        fired.append("pagerduty")
    return tuple(fired)


def send(config: Notifications, event: Event, slack_webhook: str | None, pagerduty_key: str | None, *,
         pagerduty_url: str | None = None) -> tuple[Finding, ...]:
    """Send the event to each channel the config fires (at once, each within its timeout); one finding per
    channel: info when sent, warning when it failed, timed out, or has no secret given. Never raises."""
    jobs: dict[str, tuple[Callable[[], str], float]] = {}
    findings = []
    for channel in channels(config, event):
        if channel == "slack":
            if not slack_webhook:
                findings.append(_warning(channel, "notifications.slack is set but no --slack-webhook was given; "
                                                  "pass the incoming webhook URL as a secret"))
                continue
            jobs[channel] = (partial(_slack, slack_webhook, event, config.slack.timeout_s), config.slack.timeout_s)
        else:
            if not pagerduty_key:
                findings.append(_warning(channel, "notifications.pagerduty is set but no --pagerduty-routing-key "
                                                  "was given; pass the integration's routing key as a secret"))
                continue
            timeout = config.pagerduty.timeout_s
            jobs[channel] = (partial(_page, pagerduty_key, alert(event, config.pagerduty.severity), timeout,
                                     pagerduty_url), timeout)
    return tuple(findings) + _run(jobs)


def _slack(webhook: str, event: Event, timeout_s: float) -> str:
    slack.post(webhook, slack.payload(message(event)), timeout_s)
    return "posted to Slack"


def _page(key: str, page: pagerduty.Alert, timeout_s: float, url: str | None) -> str:
    dedup = pagerduty.trigger(key, page, timeout_s, url)
    return f"PagerDuty alert triggered (dedup key {dedup})"


def _run(jobs: Mapping[str, tuple[Callable[[], str], float]]) -> tuple[Finding, ...]:
    """Each job in its own daemon thread, all at once; a job still running past its timeout (+ GRACE_S) is left
    behind, reported as timed out."""
    said: dict[str, Finding] = {}

    def run(channel: str, job: Callable[[], str]) -> None:
        try:
            said[channel] = _info(channel, job())
        except Exception as exc:  # noqa: BLE001 - a notification never fails the deploy
            said[channel] = _warning(channel, f"{channel} notification failed: {exc}")

    started = time.monotonic()
    threads = {channel: threading.Thread(target=run, args=(channel, job), daemon=True, name=f"notify-{channel}")
               for channel, (job, _) in jobs.items()}
    for thread in threads.values():
        thread.start()
    for channel, thread in threads.items():
        thread.join(max(0.0, started + jobs[channel][1] + GRACE_S - time.monotonic()))
    return tuple(said.get(channel) or _warning(channel, f"{channel} notification did not answer within "
                                                        f"{jobs[channel][1]:g} s; it is not waited for")
                 for channel in threads)


def message(event: Event) -> slack.Message:
    """The Slack message of an event: what happened where, the facts, the reason, the links."""
    what = {"success": "deployed to", "failure": "failed on", "rollback": "rolled back on"}[kind(event)]
    subject = "Rollback" if event.function == "rollback" else "Release"
    header = f"{ICONS[kind(event)]} {subject} {short(event.release)} {what} {event.environment}"
    facts = {"Environment": event.environment, "Release": short(event.release), "Outcome": event.outcome,
             "Duration": duration(event.duration_s), "Function": event.function}
    return slack.Message(header, facts, event.reason, dict(event.links), f"Bayon Pipeline · {event.function}")


def alert(event: Event, severity: str) -> pagerduty.Alert:
    """The PagerDuty alert of a failed or rolled-back run; one alert per environment, run kind and release."""
    summary = f"{event.function} of {short(event.release)} on {event.environment}: {event.outcome}"
    if event.reason:
        summary += f" ({event.reason})"
    details = {"function": event.function, "environment": event.environment, "release": event.release,
               "outcome": event.outcome, "duration_s": round(event.duration_s, 1), "reason": event.reason}
    return pagerduty.Alert(summary, f"bayon/{event.environment}", severity,
                           f"bayon/{event.environment}/{event.function}/{event.release}",
                           datetime.now(timezone.utc).isoformat(timespec="seconds"), details, dict(event.links))


def short(release: str) -> str:
    """A release id (a full commit SHA) as its first 12 characters; a tag as it is."""
    return release[:12] if len(release) == 40 and all(c in "0123456789abcdef" for c in release) else release


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _info(channel: str, message: str) -> Finding:
    return Finding(f"notify/{channel}", channel, "notify/sent", "info", None, None, None, message)


def _warning(channel: str, message: str) -> Finding:
    return Finding(f"notify/{channel}", channel, "notify/failed", "warning", None, None, None, message)
