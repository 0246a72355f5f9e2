"""Who runs a deploy or rollback on which environment, and the clock it runs by: the run id and owner the lock and
the state record, how often it polls, and injected time (tests run every wait at once)."""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ci.config.model import Environment
from ci.delivery import utc

LOCK_MARGIN_S = 300
"""The lock outlives the longest stretch between two of its renewals by this much."""


def _owner() -> str:
    """Who deploys: the GitHub actor in Actions, else the user on this host."""
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        return f"{actor} (GitHub Actions)"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _run_id() -> str:
    """GitHub's run id and attempt in Actions, else a fresh id."""
    run = os.environ.get("GITHUB_RUN_ID")
    return f"{run}-{os.environ.get('GITHUB_RUN_ATTEMPT', '1')}" if run else uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class Context:
    """One run on one environment."""

    env_name: str
    environment: Environment
    run_id: str = field(default_factory=_run_id)
    owner: str = field(default_factory=_owner)
    delay_s: int = 5
    """Seconds between two polls of a service (a stack, an Amplify job, an alarm)."""
    clock: Callable[[], float] = time.monotonic
    """Seconds for timeouts (monotonic)."""
    wall: Callable[[], float] = time.time
    """Seconds since the epoch, for what the state and lock record."""
    sleep: Callable[[float], None] = time.sleep

    @property
    def bucket(self) -> str:
        return self.environment.artifacts_bucket

    @property
    def stack_name(self) -> str:
        return self.environment.stack_name

    def attempts(self, seconds: float) -> int:
        """How many polls fit in `seconds` (at least one)."""
        return max(1, int(seconds // max(self.delay_s, 1)))

    def stamp(self) -> str:
        """Now, as the state records it (`ci.delivery.utc`)."""
        return utc.text(self.wall())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    @property
    def lock_ttl_s(self) -> float:
        """How long the lock lasts from each renewal (every phase renews it): twice the longest phase's timeout
        (a change set's creation, execution and retag; a restore's settling and put-back), a restore's frontend and
        smoke phases, the monitoring window, and a margin."""
        t = self.environment.timeouts
        longest = max(t.preflight, t.change_set, t.frontend, t.smoke, t.rollback, t.backup)
        return 2 * longest + t.frontend + t.smoke + self.environment.monitoring_minutes * 60 + LOCK_MARGIN_S
