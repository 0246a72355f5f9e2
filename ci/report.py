"""The one result shape every stage returns (published as `ci/schemas/report.schema.json`).

A `Report` is what `--format json` prints: `schema_version`, `passed`, `steps`, `findings`, plus optional
extensions (wall time, ...). Later stages extend it by adding fields, never by forking it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from . import timeline

SCHEMA_VERSION = 1

Severity = Literal["error", "warning", "info"]
Status = Literal["passed", "failed", "crashed", "skipped", "unavailable"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "crashed", "skipped", "unavailable")
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem a tool reported, located relative to the source directory."""

    step: str
    tool: str
    rule: str
    severity: Severity
    file: str | None
    line: int | None
    column: int | None
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "extra"}
        data.update(self.extra)
        return data


@dataclass(frozen=True)
class StepResult:
    """The verdict on one step (`id` is path-like: `quality/lint`)."""

    id: str
    tool: str
    status: Status
    tool_version: str | None = None
    exit_code: int | None = None
    duration_s: float = 0.0
    reason: str = ""
    started_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        data["started_s"] = round(self.started_s, 3)
        return data


@dataclass(frozen=True)
class Report:
    """Everything one function call decided: every step's verdict and every finding."""

    function: str
    steps: tuple[StepResult, ...]
    findings: tuple[Finding, ...]
    duration_s: float = 0.0
    allowed_unavailable: frozenset[str] = frozenset()
    artifacts: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    """Each tool's own report files (`<step id>/<name>`), exported by `reports`; not part of the JSON."""
    stages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Stage name → the ids of its steps and stage-level judges: what the stage summary groups by."""

    @property
    def passed(self) -> bool:
        """Passed or skipped steps pass; an unavailable step passes only where config allowed it."""
        return all(
            s.status in ("passed", "skipped") or (s.status == "unavailable" and s.id in self.allowed_unavailable)
            for s in self.steps
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "function": self.function,
            "passed": self.passed,
            "duration_s": round(self.duration_s, 3),
            "steps": [s.to_json() for s in self.steps],
            "findings": [f.to_json() for f in self.findings],
            **self.timing(),
        }

    def timing(self) -> dict[str, Any]:
        """The optional extensions saying where the time went: `stages`, `wall_s`, `critical_path` (`ci.timeline`)."""
        stages = timeline.stages(self.steps, self.stages, self.allowed_unavailable)
        return {
            **({"stages": [{"name": s.name, "status": s.status, "duration_s": round(s.duration_s, 3)} for s in stages]}
               if stages else {}),
            "wall_s": round(timeline.wall_s(self.steps), 3),
            "critical_path": [{"id": link.id, "duration_s": round(link.duration_s, 3), "share": round(link.share, 3)}
                              for link in timeline.critical_path(self.steps)],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"


def merge(function: str, reports: list[Report], duration_s: float) -> Report:
    """One report from several (a composite function such as `ci` running several stages)."""
    return Report(
        function=function,
        steps=tuple(s for r in reports for s in r.steps),
        findings=tuple(f for r in reports for f in r.findings),
        duration_s=duration_s,
        allowed_unavailable=frozenset().union(*(r.allowed_unavailable for r in reports)),
        artifacts={k: v for r in reports for k, v in r.artifacts.items()},
        stages={name: ids for r in reports for name, ids in r.stages.items()},
    )
