"""How a deploy phase fails: `PhaseFailed` names the phase (lock, preflight, change_set, traffic, frontend, smoke,
alarms, rollback, ...) and carries the evidence an incident report lists; `PhaseTimeout` is a phase over its limit."""

from __future__ import annotations

from collections.abc import Sequence

from ci.core.errors import BayonError


class PhaseFailed(BayonError):
    """A phase failed: one line saying what and how to fix it, the phase's name, and its evidence lines."""

    exit_code = 1

    def __init__(self, phase: str, message: str, evidence: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.phase = phase
        self.evidence = tuple(evidence)


class PhaseTimeout(PhaseFailed):
    """A phase took longer than its timeout (environments.NAME.timeouts)."""
