"""Where a run's time went, computed purely from a report's step timings: stages, wall time, critical path.

Every step result carries `started_s` and `duration_s`, both relative to the executor's start (installs and the git
step included), so the report alone tells the story:

- a stage's verdict is the worst of its steps', its duration the span from its first step's start to its last
  step's end (its steps run concurrently);
- the wall time is when the last step ended;
- the critical path is the chain of steps that set the wall time: start at the step that ended last, then walk back
  to the step it waited for (the one that ended last before it started: its install, the git step before that), and
  so on. Each link's share is its duration over the wall time; what the chain does not cover is time spent outside
  any step (loading the config, starting the engine, scheduling).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ci.core.report import Report, StepResult

SLACK_S = 0.05
"""A step counts as having waited for another that ended up to this long after it started (timer granularity)."""
SEVERITY = ("crashed", "failed", "unavailable", "passed", "skipped")


@dataclass(frozen=True)
class StageTime:
    """One stage's verdict and how long it took."""

    name: str
    status: str
    duration_s: float


@dataclass(frozen=True)
class Link:
    """One step of the critical path and its share of the wall time (0..1)."""

    id: str
    duration_s: float
    share: float


def ended(step: StepResult) -> float:
    return step.started_s + step.duration_s


def timed(steps: Iterable[StepResult]) -> list[StepResult]:
    """The steps that ran (a skipped step or a stage-level judge takes no time)."""
    return [s for s in steps if s.duration_s > 0]


def wall_s(steps: Sequence[StepResult]) -> float:
    """When the last step ended, from the executor's start."""
    return max((ended(s) for s in timed(steps)), default=0.0)


def critical_path(steps: Sequence[StepResult]) -> list[Link]:
    """The chain of steps that set the wall time, first to last."""
    ran = timed(steps)
    if not ran:
        return []
    wall = wall_s(ran)
    chain = [max(ran, key=ended)]
    while True:
        current = chain[-1]
        before = [s for s in ran if s.started_s < current.started_s and ended(s) <= current.started_s + SLACK_S]
        if not before:
            break
        chain.append(max(before, key=ended))
    return [Link(s.id, s.duration_s, s.duration_s / wall) for s in reversed(chain)]


def stage_status(steps: Sequence[StepResult], allowed_unavailable: Iterable[str] = ()) -> str:
    """The worst status among a stage's steps; an unavailable step the config allows counts as passed."""
    allowed = set(allowed_unavailable)
    statuses = {"passed" if s.status == "unavailable" and s.id in allowed else s.status for s in steps}
    return next((status for status in SEVERITY if status in statuses), "skipped")


def stages(steps: Sequence[StepResult], members: Mapping[str, Sequence[str]],
           allowed_unavailable: Iterable[str] = ()) -> list[StageTime]:
    """Each stage's verdict and span, in the order of `members` (stage name → its step ids)."""
    by_id = {s.id: s for s in steps}
    out = []
    for name, ids in members.items():
        own = [by_id[i] for i in ids if i in by_id]
        ran = timed(own)
        span = max(map(ended, ran)) - min(s.started_s for s in ran) if ran else 0.0
        out.append(StageTime(name, stage_status(own, allowed_unavailable), span))
    return out


def timing(report: Report) -> dict[str, Any]:
    """The report's optional extensions saying where the time went: `stages`, `wall_s`, `critical_path`."""
    grouped = stages(report.steps, report.stages, report.allowed_unavailable)
    return {
        **({"stages": [{"name": s.name, "status": s.status, "duration_s": round(s.duration_s, 3)} for s in grouped]}
           if grouped else {}),
        "wall_s": round(wall_s(report.steps), 3),
        "critical_path": [{"id": link.id, "duration_s": round(link.duration_s, 3), "share": round(link.share, 3)}
                          for link in critical_path(report.steps)],
    }
