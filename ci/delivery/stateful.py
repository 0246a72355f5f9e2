"""The loud part of a preview: a stateful resource (its data lives in it) replaced or deleted is an error, unless
`environments.NAME.allow_replacement` names its logical id."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from ci.core.findings import finding
from ci.core.report import Finding
from ci.delivery.replacement import Change

STATEFUL = frozenset({"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Cognito::UserPool", "AWS::RDS::DBInstance",
                      "AWS::RDS::DBCluster"})
REPLACEMENT, DELETION = "infra/stateful-replacement", "infra/stateful-deletion"


def findings(changes: Iterable[Change], allowed: Collection[str], env_name: str, template: str,
             lines: Mapping[str, int] | None = None) -> list[Finding]:
    """An error per stateful resource the change set replaces (or may: `Conditional`) or removes; an info one when
    allow_replacement accepts it. `lines`: where each logical id is declared in the template, when it is."""
    lines = lines or {}
    found = []
    for c in changes:
        if c.resource_type not in STATEFUL:
            continue
        if c.action == "Remove":
            rule, what = DELETION, "deletes"
        elif c.action == "Modify" and c.replacement in ("True", "Conditional"):
            rule, what = REPLACEMENT, "replaces" if c.replacement == "True" else "may replace"
        else:
            continue
        if c.logical_id in allowed:
            found.append(finding(rule, "info", template, lines.get(c.logical_id), None,
                                 f"{env_name}: the change set {what} {c.logical_id} ({c.resource_type}); accepted by "
                                 f"environments.{env_name}.allow_replacement", logical_id=c.logical_id))
        else:
            found.append(finding(rule, "error", template, lines.get(c.logical_id), None,
                                 f"{env_name}: the change set {what} {c.logical_id} ({c.resource_type}) and its data "
                                 f"with it (decided by {c.decided_by}); if intended, add {c.logical_id} to "
                                 f"environments.{env_name}.allow_replacement", logical_id=c.logical_id))
    return found
