"""Dependency audit: `npm audit --json` over the production and the dev dependencies, reported apart.

`security/audit/prod` audits what ships (`--omit=dev`); `security/audit/dev` audits the whole tree and keeps only the
advisories on packages outside production (the nodes `npm query .prod` does not list). One finding per advisory and
package: an error at or above `security.audit.fail_on`, a warning below it, info when an unexpired allowlist entry
accepts it. When the advisory service cannot be reached the step is `unavailable`, never clean. An expired allowlist
entry fails the gate on its own (`security/audit/allowlist`), whatever the service says.

Advisory data changes without any input changing, so these steps carry a per-run input (`BAYON_RUN_ID`) and the
Dagger functions running them are never cached.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from ci.config import AllowlistEntry, Audit
from ci.core.executor import RUN_ID_PLACEHOLDER
from ci.core.findings import finding, verdict
from ci.core.scheduler import Aggregate
from ci.core.report import Finding, Report, Severity, StepResult
from ci.core.step import Judgement, ReportError, Step, StepRun

LEVELS = ("info", "low", "moderate", "high", "critical")
PROD_ID, DEV_ID, ALLOWLIST_ID = "security/audit/prod", "security/audit/dev", "security/audit/allowlist"
LOCKFILE = "package-lock.json"
PROD_NODES = "prod-nodes.json"
RUN_ENV = {"BAYON_RUN_ID": RUN_ID_PLACEHOLDER}
"""A fresh value on every run: the exec is never served from the engine's cache."""
PROD_ARGV = ("npm", "audit", "--json", "--omit=dev")
DEV_ARGV = ("sh", "-c", 'npm query .prod > "$1" && exec npm audit --json --include=dev', "npm-audit-dev",
            "{reports}/" + PROD_NODES)
NETWORK_CODE = re.compile(r"\b(E[A-Z][A-Z0-9_]+)\b")


@dataclass(frozen=True)
class Policy:
    """What the audit judges apply: the failing level, the allowlist, today's date (injected), the unavailable rule."""

    fail_on: str
    allowlist: tuple[AllowlistEntry, ...]
    today: date
    warn_unavailable: bool

    @classmethod
    def of(cls, audit: Audit, today: date) -> Policy:
        return cls(audit.fail_on, tuple(audit.allowlist), today, audit.on_unavailable == "warn")

    def entry(self, ids: Iterable[str]) -> AllowlistEntry | None:
        """The allowlist entry naming any of an advisory's ids (case-insensitive), if one does."""
        wanted = {i.lower() for i in ids if i}
        return next((e for e in self.allowlist if e.id.lower() in wanted), None)

    def classify(self, ids: Iterable[str], level: str) -> tuple[Severity, str]:
        """An advisory's finding severity and a note: info when allowlisted, else error from `fail_on` up."""
        entry = self.entry(ids)
        if entry is not None and entry.expires >= self.today:
            return "info", f"allowlisted until {entry.expires}: {entry.reason}"
        severity: Severity = "error" if rank(level) >= rank(self.fail_on) else "warning"
        return severity, f"its allowlist entry expired on {entry.expires}" if entry is not None else ""


def rank(level: str) -> int:
    """Position of an npm severity level; an unknown level ranks above critical (fail closed)."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def advisory_id(advisory: dict[str, Any]) -> str:
    """The GHSA id from the advisory's URL, else npm's numeric id."""
    url = str(advisory.get("url") or "")
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.upper().startswith("GHSA-") else f"npm-{advisory.get('source')}"


def service_problem(data: dict[str, Any]) -> str | None:
    """Why npm could not get advisories (HTTP status or network error), without the registry's address; None
    when npm's error is something else."""
    message = str(data.get("message") or "")
    if isinstance(data.get("statusCode"), int):
        answer = message.split(" - ", 1)[0] if message else str(data["statusCode"])
        return f"the advisory service answered HTTP {answer}"
    if message.startswith(("request to ", "network ")):
        code = NETWORK_CODE.search(message.rpartition("reason:")[2])
        cause = code.group(1) if code else "timed out" if "timeout" in message else "network error"
        return f"the advisory service could not be reached ({cause})"
    return None


def unavailable(problem: str, policy: Policy) -> Judgement:
    """An audit that did not happen: `unavailable`, with a finding so annotations and summaries say so too."""
    consequence = ("security.audit.on_unavailable is warn" if policy.warn_unavailable
                   else "the gate fails; set security.audit.on_unavailable: warn to accept this")
    message = f"dependencies were NOT audited: {problem}"
    severity: Severity = "warning" if policy.warn_unavailable else "error"
    return Judgement("unavailable", (finding("audit/unavailable", severity, None, None, None, message),),
                     f"{message} ({consequence})")


def load(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ReportError(f"{what} is not JSON: {exc}") from exc


def prod_locations(run: StepRun) -> frozenset[str]:
    """The production nodes' locations, as `npm query .prod` wrote them (dev scope only)."""
    data = run.files.get(PROD_NODES)
    if data is None:
        raise ReportError(f"`npm query .prod` wrote no {PROD_NODES}")
    nodes = load(data.decode(errors="replace"), PROD_NODES)
    if not isinstance(nodes, list):
        raise ReportError(f"{PROD_NODES} is not a list of packages")
    return frozenset(n.get("location", "") for n in nodes if isinstance(n, dict))


def fix_text(fix: Any) -> str:
    if isinstance(fix, dict):
        major = " (a semver-major change)" if fix.get("isSemVerMajor") else ""
        return f"fixed by installing {fix.get('name')}@{fix.get('version')}{major}"
    return "`npm audit fix` fixes it" if fix is True else "no fix available"


def parse(data: dict[str, Any], policy: Policy, scope: str, exclude: frozenset[str] = frozenset()) -> list[Finding]:
    """One finding per advisory on a package, for nodes not in `exclude` (dependents' chains become `effects`)."""
    vulnerabilities = data.get("vulnerabilities")
    if not isinstance(vulnerabilities, dict):
        raise ReportError("npm audit's report has no vulnerabilities object")
    found = []
    for name, vuln in sorted(vulnerabilities.items()):
        nodes = [n for n in vuln.get("nodes", []) if n not in exclude]
        if not nodes:
            continue
        advisories = [v for v in vuln.get("via", []) if isinstance(v, dict)]  # names in `via` are dependents' chains
        for adv in sorted(advisories, key=lambda a: str(a.get("source"))):
            rule, level = advisory_id(adv), str(adv.get("severity") or "")
            severity, note = policy.classify((rule, str(adv.get("source"))), level)
            message = (f"{name}: {adv.get('title', '(no title)')} ({level}; vulnerable {adv.get('range', '?')}; "
                       f"{fix_text(vuln.get('fixAvailable'))})" + (f"; {note}" if note else ""))
            found.append(finding(
                rule, severity, LOCKFILE, None, None, message, package=name, level=level, scope=scope,
                advisory=adv.get("source"), url=adv.get("url"), nodes=nodes, effects=vuln.get("effects", []),
                cvss=(adv.get("cvss") or {}).get("score")))
    return found


def summary(found: Iterable[Finding]) -> str:
    found = list(found)
    if not found:
        return "no advisories"
    levels = [f.extra["level"] for f in found]
    counts = ", ".join(f"{levels.count(lv)} {lv}" for lv in reversed(LEVELS) if lv in levels)
    accepted = sum(f.severity == "info" for f in found)
    return f"{len(found)} advisories ({counts})" + (f", {accepted} allowlisted" if accepted else "")


def judge(run: StepRun, policy: Policy, scope: str) -> Judgement:
    """npm audit's JSON on stdout: a report, or npm's error (the service unreachable: `unavailable`)."""
    data = load(run.stdout, "npm audit's output")
    if not isinstance(data, dict):
        raise ReportError("npm audit's output is not a JSON object")
    if "auditReportVersion" not in data:
        problem = service_problem(data)
        if problem is None:
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            raise ReportError(f"npm audit failed: {error.get('summary') or data.get('message') or 'no report'}")
        return unavailable(problem, policy)
    exclude = prod_locations(run) if scope == "dev" else frozenset()
    found = parse(data, policy, scope, exclude)
    total = (data.get("metadata", {}).get("vulnerabilities") or {}).get("total")
    if run.exit_code == 1 and total == 0:
        raise ReportError("npm audit exited with code 1 but reported no vulnerabilities")
    return replace(verdict(found, None), reason=f"{scope}: {summary(found)}; fails from {policy.fail_on} up")


def steps(policy: Policy, include_dev: bool, node_major: int) -> list[Step]:
    """The production audit, and the dev audit when `include_dev`."""
    made = [Step(id=PROD_ID, tool="npm-audit", argv=PROD_ARGV, node_major=node_major, env=RUN_ENV, timeout_s=300,
                 judge=functools.partial(judge, policy=policy, scope="prod"))]
    if include_dev:
        made.append(Step(id=DEV_ID, tool="npm-audit", argv=DEV_ARGV, node_major=node_major, env=RUN_ENV,
                         outputs=(PROD_NODES,), timeout_s=300,
                         judge=functools.partial(judge, policy=policy, scope="dev")))
    return made


def check_allowlist(report: Report, policy: Policy) -> tuple[StepResult, tuple[Finding, ...]]:
    """Every expired allowlist entry fails the gate, whether or not its advisory was seen (the service may be down)."""
    expired = [e for e in policy.allowlist if e.expires < policy.today]
    found = tuple(
        Finding(ALLOWLIST_ID, "bayon", "audit/allowlist-expired", "error", "pipeline.yaml", None, None,
                f"allowlist entry {e.id} expired on {e.expires} ({e.reason}); fix the advisory, or renew the entry "
                "with a new expiry and reason in security.audit.allowlist")
        for e in expired)
    count = len(policy.allowlist)
    if expired:
        reason = f"{len(expired)} of {count} allowlist entries expired: {', '.join(e.id for e in expired)}"
    else:
        reason = f"{count} allowlist entries, none expired" if count else "no allowlist entries"
    return StepResult(ALLOWLIST_ID, "bayon", "failed" if expired else "passed", reason=reason), found


def aggregates(policy: Policy) -> list[Aggregate]:
    return [functools.partial(check_allowlist, policy=policy)]
