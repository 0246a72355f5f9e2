"""PagerDuty alerts through the Events API v2 with PagerDuty's own client library (`pagerduty`, python-pagerduty:
its EventsApiV2Client), sent once within a timeout.

The library retries 5xx answers and network errors with growing sleeps; a notification must not hold a deploy, so
this sends once (no retries) with the timeout as the HTTP timeout. The routing key is a secret: it goes in the
event's body only and is in no message this module returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pagerduty

from ci.core.text import fit

SUMMARY_MAX = 1024
"""Events v2: `payload.summary` is at most 1024 characters."""
SOURCE_MAX = 255


class PagerDutyError(Exception):
    """PagerDuty did not take the event (its status, or why it could not be reached)."""


@dataclass(frozen=True)
class Alert:
    """A trigger event's content (Events v2 `payload` and `links`); `timestamp` is ISO 8601."""

    summary: str
    source: str
    severity: str
    dedup_key: str
    timestamp: str
    custom_details: Mapping[str, object] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    """Text -> href."""


def trigger(routing_key: str, alert: Alert, timeout_s: float, api_url: str | None = None) -> str:
    """Send the trigger event once; PagerDuty's dedup key, or PagerDutyError."""
    try:
        with pagerduty.EventsApiV2Client(routing_key, base_url=api_url) as client:
            client.retry = {}
            client.max_network_attempts = 0
            client.timeout = timeout_s
            return client.trigger(
                fit(alert.summary, SUMMARY_MAX), fit(alert.source, SOURCE_MAX), dedup_key=alert.dedup_key,
                severity=alert.severity, payload={"timestamp": alert.timestamp},
                custom_details=dict(alert.custom_details),
                links=[{"href": href, "text": text} for text, href in alert.links.items() if href])
    except pagerduty.HttpError as exc:
        raise PagerDutyError(f"the Events API answered {exc.response.status_code}") from None
    except Exception as exc:  # noqa: BLE001 - the network's failures are one reason, the key left out
        cause = exc.__cause__ or exc  # the library wraps the network's error in its own
        said = str(cause).replace(routing_key, "***") if routing_key else str(cause)  # "" would replace everywhere
        said = " ".join(said.split())[:300]
        raise PagerDutyError(f"the Events API could not be reached ({type(cause).__name__}: {said})") from None
