"""The phases of a deploy or rollback as the report's steps: each phase is timed, printed as a progress line when it
starts and ends, and recorded as a `StepResult` (`deploy/change-set`, `rollback/smoke`, ...), passed or failed with
its reason; a phase that never ran is recorded as skipped, saying why."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ci.core.errors import one_line
from ci.core.report import Finding, StepResult
from ci.delivery.phases import PhaseFailed


def print_progress(line: str) -> None:
    """A progress line on stderr (the report goes to stdout)."""
    print(line, file=sys.stderr, flush=True)


@dataclass
class Outcome:
    """What the running phase says about itself when it passes (its reason in the report)."""

    reason: str = ""


@dataclass
class PhaseLog:
    """The steps recorded so far, in order, and the findings the phases made (failed smoke checks)."""

    progress: Callable[[str], None] = print_progress
    clock: Callable[[], float] = time.monotonic
    steps: list[StepResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    origin: float | None = None
    """When the run began (`clock`): each step's `started_s` counts from it, for the timeline."""

    def __post_init__(self) -> None:
        if self.origin is None:
            self.origin = self.clock()

    @contextmanager
    def phase(self, step_id: str, tool: str) -> Iterator[Outcome]:
        """Run one phase: passed with the reason the body sets, or failed with the PhaseFailed's message (or the
        unexpected error's), the exception re-raised for the orchestrator."""
        self.progress(f"{step_id}: started")
        started = self.clock()
        said = Outcome()
        try:
            yield said
        except Exception as exc:  # a PhaseFailed says why; anything else is shown as the unexpected error it is
            why = str(exc) if isinstance(exc, PhaseFailed) else f"unexpected error: {one_line(exc)}"
            self.steps.append(StepResult(step_id, tool, "failed", reason=why, duration_s=self.clock() - started,
                                         started_s=started - self.origin))
            self.progress(f"{step_id}: FAILED after {self.clock() - started:.1f} s: {why}")
            raise
        self.steps.append(StepResult(step_id, tool, "passed", reason=said.reason, duration_s=self.clock() - started,
                                     started_s=started - self.origin))
        self.progress(f"{step_id}: done in {self.clock() - started:.1f} s" + (f": {said.reason}" if said.reason else ""))

    def skipped(self, step_id: str, tool: str, reason: str) -> None:
        self.steps.append(StepResult(step_id, tool, "skipped", reason=reason, started_s=self.clock() - self.origin))

    def failed(self, step_id: str, tool: str, reason: str) -> None:
        """A phase that failed outside a `phase` block (a failure found after the fact)."""
        self.steps.append(StepResult(step_id, tool, "failed", reason=reason, started_s=self.clock() - self.origin))
        self.progress(f"{step_id}: FAILED: {reason}")
