"""Which resources a new template adds, removes, modifies or replaces, decided by diffing the deployed template and
the new one (both plain CloudFormation): a modification replaces when a replacement-forcing property
(`ci.delivery.create_only`) changed. Used where the service does not say `Replacement` (an emulator never does)."""

from __future__ import annotations

from dataclasses import dataclass

from ci.delivery.create_only import table

DECIDED_BY_SERVICE, DECIDED_BY_DIFF = "service", "template diff"


@dataclass(frozen=True)
class Change:
    """One row of a change set: `replacement` is "True", "False", "Conditional" (the service's words) or "" (not a
    modification); `decided_by` says who said so."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""
    decided_by: str = DECIDED_BY_SERVICE

    def row(self) -> dict[str, str]:
        return {"action": self.action, "logical_id": self.logical_id, "type": self.resource_type,
                "replacement": self.replacement, "decided_by": self.decided_by}


def forcing(resource_type: str, old: dict, new: dict) -> list[str]:
    """The replacement-forcing properties whose value differs between two versions of a resource."""
    names = table().get(resource_type, frozenset())
    before, after = old.get("Properties") or {}, new.get("Properties") or {}
    return sorted(name for name in names if before.get(name) != after.get(name))


def replaces(resource_type: str, old: dict, new: dict) -> bool:
    return bool(forcing(resource_type, old, new)) or old.get("Type") != new.get("Type")


def diff(deployed: dict, new: dict) -> list[Change]:
    """The changes from the deployed template to the new one, by logical id (Add, Remove, Modify)."""
    before, after = deployed.get("Resources") or {}, new.get("Resources") or {}
    changes = [Change("Add", i, after[i].get("Type", ""), decided_by=DECIDED_BY_DIFF) for i in after if i not in before]
    changes += [Change("Remove", i, before[i].get("Type", ""), decided_by=DECIDED_BY_DIFF)
                for i in before if i not in after]
    for i in (i for i in after if i in before and _body(before[i]) != _body(after[i])):
        kind = after[i].get("Type", "")
        changes.append(Change("Modify", i, kind, str(replaces(kind, before[i], after[i])), DECIDED_BY_DIFF))
    return sorted(changes, key=lambda c: c.logical_id)


def _body(resource: dict) -> dict:
    """What a resource's update compares (metadata such as SAM's source hints left out)."""
    return {k: v for k, v in resource.items() if k != "Metadata"}


def completed(service: list[Change], decided: list[Change]) -> list[Change]:
    """The service's rows, a Modify it did not say `Replacement` for decided by the diff."""
    by_id = {c.logical_id: c for c in decided}
    return [by_id[c.logical_id] if c.action == "Modify" and not c.replacement and c.logical_id in by_id else c
            for c in service]
