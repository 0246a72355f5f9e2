"""The deployment plan as pure functions: evidence in, the checklist and the derived risk out, then Markdown.

Each checklist item is ticked, not ticked, unknown or not applicable, and says where its answer came from; each risk
is derived from the change set, the lockfile diff and the commits since the deployed release, never asked. Nothing
here does I/O (`ci.delivery.plan_evidence` gathers the evidence).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from ci.delivery.replacement import Change
from ci.delivery.stateful import STATEFUL
from ci.integrations import github_releases
from ci.integrations.github_evidence import CheckRun

Answer = Literal["yes", "no", "unknown", "n/a"]
Level = Literal["none", "low", "medium", "high", "unknown"]
LEVELS: tuple[Level, ...] = ("none", "low", "medium", "high")
MARKS = {"yes": "[x]", "no": "[ ]", "unknown": "[ ]", "n/a": "[x]"}
SAYS = {"yes": "", "no": "**no**", "unknown": "**unknown**", "n/a": "not applicable"}
TABLE_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"})
CONVENTIONAL = re.compile(r"^(?P<type>[a-z]+)(?:\((?P<scope>[^)]*)\))?(?P<bang>!)?: (?P<text>.+)$")
BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE: (?P<text>.+)$", re.MULTILINE)
_SLOT = "\x00"
_OPEN, _CLOSE = (line.split(_SLOT) for line in github_releases.with_section("", _SLOT, "").split("\n\n"))
SECTION = re.compile(rf"{re.escape(_OPEN[0])}(?P<m>[\w-]+){re.escape(_OPEN[1])}.*?"
                     rf"{re.escape(_CLOSE[0])}(?P=m){re.escape(_CLOSE[1])}", re.DOTALL)
"""A section the pipeline writes into release notes, any name: the marker lines around it taken from what
`github_releases.with_section` writes (its start line is `github_comments.marker`), never spelled here."""


@dataclass(frozen=True)
class Item:
    """One checklist line: its answer, where it came from, and what was found."""

    label: str
    answer: Answer
    source: str
    detail: str = ""


@dataclass(frozen=True)
class Risk:
    """One risk: its level, a one-line summary, where it came from, and the rows behind it."""

    label: str
    level: Level
    summary: str
    source: str
    rows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    environment: str
    release: str
    deployed: str | None
    checklist: tuple[Item, ...]
    risks: tuple[Risk, ...]
    changes: tuple[Change, ...] = ()
    change_set: str = ""
    """Where the change set came from and that it was deleted, or why none could be made."""

    @property
    def overall(self) -> str:
        """The highest level of the risks; with some unknown, `unknown (at least LEVEL)` of the known ones (just
        `unknown` when they are none; `high` stays high: nothing is above it)."""
        known = [r.level for r in self.risks if r.level != "unknown"]
        top = max(known, key=LEVELS.index) if known else "none"
        if self.risks and len(known) == len(self.risks) or top == "high":
            return top
        return "unknown" if top == "none" else f"unknown (at least {top})"


# checks of the commit

CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Quality gates passed (lint, types, format, build)", ("ci", "checks", "quality")),
    ("Tests passed (unit, integration)", ("ci", "checks", "unit-tests", "integration-tests", "tests")),
    ("Security scans passed (audit, secrets, SAST, licenses)", ("security",)),
)
"""Each checklist item about the commit and the names of the workflow jobs (check runs) that answer it: the first
name with any check run decides; a matrix job's runs (`name (22)`) all count."""
PASSING = frozenset({"success"})
"""Only a green run passes: a skipped job (its `if:` false, a failed need) or a neutral one checked nothing."""


def _named(runs: Sequence[CheckRun], name: str) -> list[CheckRun]:
    return [r for r in runs if r.name == name or r.name.startswith(f"{name} (")]


def check_items(runs: Sequence[CheckRun] | str, sha: str) -> tuple[Item, ...]:
    """The commit's check items; `runs` is the check runs of the SHA, or why they are unknown."""
    source = f"GitHub check runs of {sha[:12]}"
    if isinstance(runs, str):
        return tuple(Item(label, "unknown", runs) for label, _ in CHECKS)
    items = []
    for label, names in CHECKS:
        name = next((n for n in names if _named(runs, n)), None)
        if name is None:
            items.append(Item(label, "no", source, f"no check run named {' or '.join(names)}"))
            continue
        found = _named(runs, name)
        said = ", ".join(f"{r.name}: {r.conclusion or r.status}" for r in found)
        done = all(r.status == "completed" for r in found)
        answer: Answer = "yes" if done and all(r.conclusion in PASSING for r in found) else "no"
        items.append(Item(label, answer, source, said if done else f"{said} (not finished)"))
    return tuple(items)


# the other checklist items

def staging_item(promote_from: str | None, record: Mapping[str, str] | None, release: str, why: str = "") -> Item:
    """The release deployed green on the environment it is promoted from: its state's `deploy` record."""
    label = "Deployed and verified on the environment before"
    if promote_from is None:
        return Item(label, "n/a", "pipeline.yaml", "this environment has no promote_from")
    source = f"the state of {promote_from}"
    if why:
        return Item(label, "unknown", source, why)
    if record is None:
        return Item(label, "no", source, f"no deploy of {release[:12]} with outcome deployed on {promote_from}")
    return Item(label, "yes", source, f"deployed {record['finished']} by run {record['run_id']}")


def notes_item(tag: str, body: str | None, why: str = "") -> Item:
    """The tag's GitHub release has notes of its own (the sections the pipeline writes do not count)."""
    label = "Release notes written"
    if why:
        return Item(label, "unknown", f"the GitHub release of {tag or 'the tag'}", why)
    source = f"the GitHub release of {tag}"
    if body is None:
        return Item(label, "no", source, "no such GitHub release")
    own = SECTION.sub("", body).strip()
    return Item(label, "yes" if own else "no", source, f"{len(own)} characters" if own else "the body is empty")


def rollback_item(env_name: str, target: str | None, why: str = "", first: bool = False) -> Item:
    """A release to roll back to: the state's last known good, its objects verified in the bucket."""
    label = "Rollback target available"
    source = f"the state and artifacts bucket of {env_name}"
    if first:
        return Item(label, "n/a", source, "first deploy: nothing runs there yet")
    if why:
        return Item(label, "no" if target else "unknown", source, why)
    if target is None:
        return Item(label, "no", source, "no last known good release")
    return Item(label, "yes", source, f"{target[:12]}, every object's checksum verified")


# risks

def database_risk(changes: Sequence[Change] | None, why: str = "") -> Risk:
    label, source = "Database changes", "the change set (DynamoDB tables and their indexes)"
    if changes is None:
        return Risk(label, "unknown", why, source)
    tables = [c for c in changes if c.resource_type in TABLE_TYPES]
    rows = tuple(_row(c) for c in tables)
    if any(c.action == "Remove" or c.replacement in ("True", "Conditional") for c in tables):
        return Risk(label, "high", "a table is removed or replaced: its data does not carry over", source, rows)
    if any(c.action == "Modify" for c in tables):
        return Risk(label, "medium", "a table (its keys, indexes or settings) is modified in place", source, rows)
    if tables:
        return Risk(label, "low", f"{len(tables)} table(s) added", source, rows)
    return Risk(label, "none", "no table or index changes", source)


def infrastructure_risk(changes: Sequence[Change] | None, why: str = "") -> Risk:
    label, source = "Infrastructure changes", "the change set"
    if changes is None:
        return Risk(label, "unknown", why, source)
    rows = tuple(_row(c) for c in changes)
    replaced = [c for c in changes if c.replacement in ("True", "Conditional")]
    stateful = [c for c in changes if c.resource_type in STATEFUL and (c in replaced or c.action == "Remove")]
    summary = f"{len(changes)} change(s), {len(replaced)} replacement(s)"
    if stateful:
        return Risk(label, "high", f"{summary}; stateful replaced or removed: "
                    f"{', '.join(c.logical_id for c in stateful)}", source, rows)
    if replaced:
        return Risk(label, "medium", summary, source, rows)
    return Risk(label, "low" if changes else "none", summary if changes else "the change set is empty", source, rows)


def downtime_risk(changes: Sequence[Change] | None, why: str = "") -> Risk:
    """Expected downtime, from replacements: a replaced resource is created anew, then the old one deleted."""
    label, source = "Expected downtime", "the change set's replacements"
    if changes is None:
        return Risk(label, "unknown", why, source)
    replaced = [c for c in changes if c.replacement in ("True", "Conditional")]
    if not replaced:
        return Risk(label, "none", "none expected: nothing is replaced", source)
    stateful = [c for c in replaced if c.resource_type in STATEFUL]
    level: Level = "high" if stateful else "low"
    summary = ("replaced stateful resources start empty: the app is down or wrong until their data is restored"
               if stateful else "brief: replaced resources get new physical ids, requests may fail while they switch")
    return Risk(label, level, summary, source, tuple(_row(c) for c in replaced))


@dataclass(frozen=True)
class LockDiff:
    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    upgraded: tuple[tuple[str, str, str], ...]


def lock_packages(text: str) -> dict[str, str]:
    """name -> version of a package-lock.json (v2/v3 `packages`, else v1 `dependencies`); nested copies by path."""
    data = json.loads(text)
    if isinstance(data.get("packages"), dict):
        return {path.removeprefix("node_modules/"): str(entry.get("version", ""))
                for path, entry in data["packages"].items() if path and isinstance(entry, dict)}
    found: dict[str, str] = {}

    def walk(deps: Mapping, prefix: str) -> None:
        for name, entry in deps.items():
            found[prefix + name] = str(entry.get("version", ""))
            walk(entry.get("dependencies") or {}, f"{prefix}{name}/node_modules/")

    walk(data.get("dependencies") or {}, "")
    return found


def lock_diff(before: str, after: str) -> LockDiff:
    old, new = lock_packages(before), lock_packages(after)
    return LockDiff(tuple((n, new[n]) for n in sorted(new.keys() - old.keys())),
                    tuple((n, old[n]) for n in sorted(old.keys() - new.keys())),
                    tuple((n, old[n], new[n]) for n in sorted(old.keys() & new.keys()) if old[n] != new[n]))


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def dependency_risk(diff: LockDiff | None, source: str, why: str = "") -> Risk:
    label = "Dependency updates"
    if diff is None:
        return Risk(label, "unknown" if why else "none", why or "first deploy: nothing to compare with", source)
    rows = (*(f"added {n} {v}" for n, v in diff.added), *(f"removed {n} {v}" for n, v in diff.removed),
            *(f"upgraded {n} {a} -> {b}" for n, a, b in diff.upgraded))
    majors = [n for n, a, b in diff.upgraded if _major(a) != _major(b)]
    summary = (f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.upgraded)} upgraded"
               + (f" ({len(majors)} major: {', '.join(majors[:5])})" if majors else ""))
    if not rows:
        return Risk(label, "none", "the lockfile is unchanged", source)
    return Risk(label, "medium" if majors or diff.removed else "low", summary, source, rows)


def breaking(commit: Mapping[str, str]) -> str | None:
    """What a conventional commit says breaks (`type!:` or a `BREAKING CHANGE:` footer), or None."""
    footer = BREAKING_FOOTER.search(commit.get("body", ""))
    if footer:
        return footer.group("text").strip()
    head = CONVENTIONAL.match(commit.get("subject", ""))
    return head.group("text") if head and head.group("bang") else None


def breaking_risk(commits: Sequence[Mapping[str, str]] | None, source: str, why: str = "") -> Risk:
    label = "Breaking changes"
    if commits is None:
        return Risk(label, "unknown" if why else "none", why or "first deploy: no earlier release", source)
    found = [(c["sha"], text) for c in commits if (text := breaking(c))]
    rows = tuple(f"{sha[:12]}: {text}" for sha, text in found)
    if found:
        return Risk(label, "high", f"{len(found)} of {len(commits)} commit(s) marked breaking", source, rows)
    return Risk(label, "none", f"none marked breaking in {len(commits)} commit(s)", source)


def _row(c: Change) -> str:
    replaced = {"True": ", replaced", "Conditional": ", may be replaced"}.get(c.replacement, "")
    return f"{c.action} {c.logical_id} ({c.resource_type}{replaced})"


# rendering

def markdown(plan: Plan) -> str:
    """The plan as Markdown: a job summary, and a section of the release's notes."""
    deployed = plan.deployed[:12] if plan.deployed else "nothing yet"
    out = [f"## Deployment plan: {plan.release[:12]} to {plan.environment}", "",
           f"Now deployed there: {deployed}. Overall risk: **{plan.overall}**.", "", "### Checklist", ""]
    for item in plan.checklist:
        said = f"{SAYS[item.answer]} ({item.detail})" if SAYS[item.answer] and item.detail else (
            SAYS[item.answer] or item.detail)
        out.append(f"- {MARKS[item.answer]} {item.label}{': ' + said if said else ''} _(source: {item.source})_")
    out += ["", "### Risk assessment", "", "| risk | level | what | source |", "| --- | --- | --- | --- |"]
    out += [f"| {r.label} | {r.level} | {_cell(r.summary)} | {_cell(r.source)} |" for r in plan.risks]
    for r in plan.risks:
        if r.rows and r.level not in ("none", "unknown"):
            out += ["", f"<details><summary>{r.label}: {len(r.rows)} row(s)</summary>", ""]
            out += [f"- {_cell(row)}" for row in r.rows[:100]]
            out += ([f"- ... {len(r.rows) - 100} more"] if len(r.rows) > 100 else []) + ["", "</details>"]
    if plan.change_set:
        out += ["", f"_{plan.change_set}_"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_json(plan: Plan) -> dict:
    data = asdict(plan)
    data["changes"] = [c.row() for c in plan.changes]
    data["overall"] = plan.overall
    return data
