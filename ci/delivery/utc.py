"""Moments as the delivery state and lock store them: ISO 8601 text in UTC to the second (`2026-12-02T02:18:36Z`),
from and to seconds since the epoch (what an injected `clock`, e.g. `time.time`, returns)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, Field

PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
"""The only form written and accepted."""


def text(seconds: float) -> str:
    """`seconds` since the epoch as ISO 8601 UTC text, to the second."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds(moment: str) -> float:
    """The inverse of `text`; ValueError for any other form."""
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def compact(seconds: float) -> str:
    """`20261202T021836Z`: a moment for an object key (no colons)."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _real(moment: str) -> str:
    """The moment, if it is one (`2026-13-45T...` has the form and is none)."""
    seconds(moment)
    return moment


Moment = Annotated[str, Field(pattern=PATTERN), AfterValidator(_real)]
"""A model field holding a moment of this form."""
