"""The failure of one deploy phase after the change set may have run: what the deploy rolls back on, and what its
incident report shows (the phase, the one-line reason, the evidence behind it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from ci.core.errors import BayonError, one_line

T = TypeVar("T")

FRONTEND = "frontend"
TRAFFIC = "traffic"
SMOKE = "smoke"
MONITORING = "monitoring"
"""The phases these modules fail in (the deploy's own phases, such as change_set, are named by the deploy)."""


class PhaseFailed(BayonError):
    """A phase failed: `phase: reason` (what happened, and the fix when there is one), with `evidence` (lines for the
    incident report, never a secret)."""

    exit_code = 1

    def __init__(self, phase: str, reason: str, evidence: Sequence[str] = ()) -> None:
        super().__init__(f"{phase}: {reason}")
        self.phase = phase
        self.reason = reason
        self.evidence: tuple[str, ...] = tuple(evidence)


class PhaseTimeout(PhaseFailed):
    """A phase was still going when its timeout (`environments.E.timeouts`) ran out."""


def aws_call(phase: str, failed: str, fix: str, call: Callable[[], T]) -> T:
    """`call()`, where a service error (an answer, or no connection) becomes PhaseFailed `phase: FAILED: error; FIX`.
    ParamValidationError is raised as it is: a call the code got wrong, not something the service said."""
    try:
        return call()
    except ParamValidationError:
        raise
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"{failed}: {one_line(exc)}; {fix}") from None
