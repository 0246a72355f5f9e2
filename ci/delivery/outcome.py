"""How a deploy or rollback ended, as the one report shape: its phases are the steps, `outcome` says where the
environment is (`deployed`, `rolled_back`, `unrecoverable`, or `unchanged` when nothing was changed), `delivery`
which releases were involved, and the incident report (Markdown) is among the report files."""

from __future__ import annotations

from dataclasses import dataclass

from ci.core.report import Report, Table
from ci.delivery.context import Context
from ci.delivery.phase_log import PhaseLog

INCIDENT_FILE = "incident.md"


@dataclass(frozen=True)
class Result:
    """The outcome, the release the run was about, the release restored (rolled back to), why, the incident."""

    outcome: str
    release: str
    restored: str | None
    reason: str
    incident: str = ""
    """The incident report (Markdown), when the run recorded one."""
    incident_id: str = ""


def report(function: str, ctx: Context, log: PhaseLog, result: Result | None = None,
           tables: tuple[Table, ...] = ()) -> Report:
    """The report of the run: a phase that ended it failed; `passed` only for an outcome its function wanted. A
    read-only function (no `result`) has no outcome."""
    steps = tuple(log.steps)
    delivery = {"environment": ctx.env_name, "stack": ctx.stack_name, "run_id": ctx.run_id}
    if result is not None:
        delivery.update(release=result.release, restored=result.restored, reason=result.reason)
        if result.incident_id:
            delivery["incident"] = result.incident_id
    artifacts = {INCIDENT_FILE: result.incident.encode()} if result is not None and result.incident else {}
    return Report(function, steps, tuple(log.findings), sum(s.duration_s for s in steps), artifacts=artifacts,
                  stages={function: tuple(s.id for s in steps)}, tables=tables,
                  outcome=result.outcome if result is not None else None, delivery=delivery)
