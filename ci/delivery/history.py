"""`history --env NAME` as report tables (`ci.core.report.Table`): the environment's deployments, incidents and
the safeguards' backups, newest first, and one row with its last known good, current release and any attempt in
progress."""

from __future__ import annotations

from ci.core.report import Table
from ci.delivery.state import Attempt, Deployment, EnvState, short

DEPLOYMENT_COLUMNS = ("started", "kind", "release", "outcome", "previous", "reason")
INCIDENT_COLUMNS = ("id", "at", "release", "phase", "outcome", "reason")
"""The id is what `history --incident ID` takes."""
SUMMARY_COLUMNS = ("environment", "last known good", "current", "attempt in progress")
BACKUP_COLUMNS = ("started", "release", "table", "backup", "arn", "snapshot", "override reason")
"""One row per on-demand backup (a deploy with a snapshot and no backup: one row without a table)."""


def tables(state: EnvState) -> tuple[Table, ...]:
    """The deployments, the incidents, the backups and the summary of `state`; releases shortened to 12 hex
    digits, except in the summary (full ids: what `rollback --to` takes)."""
    step = f"history/{state.environment}"
    deployments = tuple((d.started, d.kind, short(d.release), d.outcome, short(d.previous), d.reason)
                        for d in reversed(state.history))
    incidents = tuple((i.id, i.at, short(i.release), i.phase, i.outcome, i.reason) for i in reversed(state.incidents))
    backups = tuple(row for d in reversed(state.history) for row in _backups(d))
    summary = ((state.environment, state.last_known_good, state.current, _attempt(state.attempt)),)
    return (Table("deployments, newest first" + ("" if deployments else " (none yet)"), DEPLOYMENT_COLUMNS,
                  deployments, step),
            Table("incidents, newest first" + ("" if incidents else " (none)"), INCIDENT_COLUMNS, incidents, step),
            Table("last known good", SUMMARY_COLUMNS, summary, step),
            Table("backups, newest first" + ("" if backups else " (none)"), BACKUP_COLUMNS, backups, step))


def _backups(d: Deployment) -> tuple[tuple, ...]:
    """The rows of one deployment's safeguards: each backup, or the snapshot alone."""
    guard = d.safeguards
    if guard is None:
        return ()
    head = (d.started, short(d.release))
    tail = (guard.snapshot, guard.override_reason or None)
    if not guard.backups:
        return ((*head, None, None, None, *tail),) if guard.snapshot or guard.override_reason else ()
    return tuple((*head, b.logical_id, b.name, b.arn, *tail) for b in guard.backups)


def _attempt(attempt: Attempt | None) -> str | None:
    """`deploy 0123456789ab at smoke (run 42, since ...)`; None when there is none."""
    if attempt is None:
        return None
    return f"{attempt.kind} {short(attempt.release)} at {attempt.phase} (run {attempt.run_id}, since {attempt.started})"
