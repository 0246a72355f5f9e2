"""The one result shape every stage returns (published as `ci/schemas/report.schema.json`).

A `Report` is what `--format json` prints (`ci.output.render.report_json`): `schema_version`, `passed`, `steps`,
`findings`, plus optional extensions (wall time, ...). Later stages extend it by adding fields, never by forking it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal


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


Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """A summary a step's judge adds to the report (Lighthouse's scores per URL, form factor and category): a title,
    its column names and rows of plain values; in the JSON under `tables`, rendered after the findings."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    step: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "title": self.title, "columns": list(self.columns),
                "rows": [list(row) for row in self.rows]}


@dataclass(frozen=True)
class StepResult:
    """The verdict on one step (`id` is path-like: `quality/lint`); `blocked_by` names the install whose failure kept
    a skipped step from running."""

    id: str
    tool: str
    status: Status
    tool_version: str | None = None
    exit_code: int | None = None
    duration_s: float = 0.0
    reason: str = ""
    started_s: float = 0.0
    services: tuple[dict[str, str], ...] = ()
    """The services the step ran against, as the executor started them: `name` and `image` (Dagger) or `version`
    (the package that ran on this host); in the JSON only when there are any."""
    blocked_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        data["started_s"] = round(self.started_s, 3)
        if self.services:
            data["services"] = [dict(service) for service in self.services]
        else:
            del data["services"]
        if self.blocked_by is None:
            del data["blocked_by"]
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
    tables: tuple[Table, ...] = ()
    """The summaries the steps' judges made, in step order; in the JSON only when there are any."""
    outcome: str | None = None
    """Delivery functions only: where the environment ended (deployed, rolled_back, unrecoverable, unchanged)."""
    delivery: dict[str, Any] = field(default_factory=dict)
    """Delivery functions only: environment, stack, release, restored release, reason, run id."""

    @property
    def passed(self) -> bool:
        """Passed or skipped steps pass; an unavailable step passes only where config allowed it."""
        return all(
            s.status in ("passed", "skipped") or (s.status == "unavailable" and s.id in self.allowed_unavailable)
            for s in self.steps
        )
