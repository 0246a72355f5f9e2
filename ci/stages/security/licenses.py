"""License compliance of the installed dependencies: `npm query` lists them, SPDX policy judges them.

The step lists the installed tree (`npm query .prod`, or `*` with `security.licenses.include_dev`): each package's
name, version, location, dev flag and its package.json `license` (or legacy `licenses`). The judge evaluates each
license as an SPDX expression with `license-expression`: an OR passes when any of its choices passes (`(MIT OR
GPL-3.0-only)` passes via MIT), an AND only when all its parts do. A license id matching `allow` passes; otherwise
one matching `deny` fails the gate, one matching `warn` (or missing from a non-empty `allow`) warns. Missing or
non-SPDX licenses warn or fail per `unknown`. The app's own packages (the root, workspaces) are not judged; a package
in `exceptions` is accepted with its reason.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from dataclasses import dataclass, replace
from typing import Any

from license_expression import ExpressionError, LicenseWithExceptionSymbol, Licensing, get_spdx_licensing

from ci.config import Licenses
from ci.core.findings import finding, verdict
from ci.core.report import Finding, Severity
from ci.core.step import Judgement, ReportError, Step, StepRun

STEP_ID = "security/licenses"
ALLOWED, WARN, UNKNOWN, DENY = range(4)
"""Verdicts on a license id, least to most severe: an AND takes its worst part, an OR its best choice."""


@functools.cache
def licensing() -> Licensing:
    """The SPDX license and exception list shipped with license-expression (loaded once, offline)."""
    return get_spdx_licensing()


@dataclass(frozen=True)
class Package:
    """An installed package as `npm query` describes it."""

    name: str
    version: str
    license: str | None
    dev: bool
    location: str


@dataclass(frozen=True)
class Outcome:
    """A license's verdict and why: which id matched which rule."""

    verdict: int
    why: str


def declared(node: dict[str, Any]) -> str | None:
    """The license a package.json declares: `license` (a string, or a legacy `{type}` object), or the legacy
    `licenses` list read as alternatives."""
    value = node.get("license")
    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, str) and value.strip():
        return value.strip()
    items = node.get("licenses")
    if isinstance(items, list):
        names = [i.get("type") if isinstance(i, dict) else i for i in items]
        names = [n.strip() for n in names if isinstance(n, str) and n.strip()]
        return " OR ".join(f"({n})" if " " in n else n for n in names) or None
    return None


def packages(output: str) -> list[Package]:
    """The dependencies in `npm query` output, one per name and version (the app's own packages left out)."""
    try:
        nodes = json.loads(output)
    except ValueError as exc:
        raise ReportError(f"npm query's output is not JSON: {exc}") from exc
    if not isinstance(nodes, list):
        raise ReportError("npm query's output is not a list of packages")
    found: dict[tuple[str, str], Package] = {}
    for node in nodes:
        location = str(node.get("location", ""))
        if "node_modules/" not in f"{location}/" or not node.get("name"):
            continue  # the root and workspace folders are the app's own
        key = (str(node["name"]), str(node.get("version", "")))
        found.setdefault(key, Package(*key, declared(node), bool(node.get("dev")), location))
    return sorted(found.values(), key=lambda p: (p.name, p.version))


@dataclass(frozen=True)
class Policy:
    """`security.licenses` as the judge applies it."""

    deny: tuple[str, ...]
    warn: tuple[str, ...]
    allow: tuple[str, ...]
    unknown_fails: bool
    exceptions: dict[str, str]

    @classmethod
    def of(cls, config: Licenses) -> Policy:
        return cls(tuple(config.deny), tuple(config.warn), tuple(config.allow), config.unknown == "fail",
                   {e.package: e.reason for e in config.exceptions})

    def rule(self, key: str, known: bool) -> Outcome:
        """The verdict on one SPDX license id."""
        if not known:
            return Outcome(UNKNOWN, f"{key} is not an SPDX license id")
        lists = ((ALLOWED, self.allow, "allow"), (DENY, self.deny, "deny"), (WARN, self.warn, "warn"))
        for verdict_, globs, word in lists:
            match = next((g for g in globs if fnmatch.fnmatchcase(key, g)), None)
            if match:
                return Outcome(verdict_, f"{key} matches {word} {match}")
        if self.allow:
            return Outcome(WARN, f"{key} is not in the allow list")
        return Outcome(ALLOWED, f"{key} is allowed")


def evaluate(expression: str | None, policy: Policy) -> Outcome:
    """An SPDX expression's verdict: the best of its OR choices, each the worst of its AND parts."""
    if expression is None:
        return Outcome(UNKNOWN, "no license declared")
    if expression == "UNLICENSED" or expression.startswith("SEE LICENSE IN"):
        return Outcome(UNKNOWN, f"{expression!r} is not an open-source license")
    spdx = licensing()
    try:
        parsed = spdx.parse(expression, validate=False)
    except ExpressionError as exc:
        return Outcome(UNKNOWN, f"{expression!r} is not an SPDX expression ({exc})")
    unknown = set(spdx.unknown_license_keys(parsed))
    dnf = spdx.dnf(parsed.simplify())
    choices = dnf.args if isinstance(dnf, spdx.OR) else (dnf,)
    outcomes = []
    for choice in choices:
        symbols = spdx.license_symbols(choice, unique=True, decompose=False)
        keys = [s.license_symbol.key if isinstance(s, LicenseWithExceptionSymbol) else s.key for s in symbols]
        outcomes.append(max((policy.rule(k, k not in unknown) for k in keys), key=lambda o: o.verdict))
    return min(outcomes, key=lambda o: o.verdict)


RULES = {WARN: "license/warn", UNKNOWN: "license/unknown", DENY: "license/denied"}


def judge_package(package: Package, policy: Policy) -> Finding | None:
    """The finding on one package (None when its license passes)."""
    outcome = evaluate(package.license, policy)
    if outcome.verdict == ALLOWED:
        return None
    scope = "dev" if package.dev else "prod"
    where = f"{package.location}/package.json"
    shown = package.license or "(none)"
    extra = dict(package=package.name, version=package.version, license=package.license, scope=scope)
    if package.name in policy.exceptions:
        reason = policy.exceptions[package.name]
        return finding("license/exception", "info", where, None, None,
                       f"{package.name}@{package.version} ({shown}) accepted: {reason}", **extra)
    severity: Severity = ("error" if outcome.verdict == DENY or (outcome.verdict == UNKNOWN and policy.unknown_fails)
                          else "warning")
    return finding(RULES[outcome.verdict], severity, where, None, None,
                   f"{package.name}@{package.version} ({scope}) is licensed {shown}: {outcome.why}", **extra)


def judge(run: StepRun, policy: Policy) -> Judgement:
    checked = packages(run.stdout)
    found = [f for f in (judge_package(p, policy) for p in checked) if f is not None]
    result = verdict(found, None)
    return replace(result, reason=f"{len(checked)} package(s) checked: {result.reason}")


def step(config: Licenses, node_major: int) -> Step:
    # npm query exits non-zero only when it could not list the tree: a crash, with its stderr.
    selector = "*" if config.include_dev else ".prod"
    return Step(id=STEP_ID, tool="npm-query", argv=("npm", "query", selector), node_major=node_major,
                finding_codes=frozenset(), timeout_s=300, judge=functools.partial(judge, policy=Policy.of(config)))
