"""Optional Snyk audit: `snyk test --json` on the production dependencies, run only when a `snyk-token` is given.

Snyk's CLI is not an app dependency, so the step fetches one pinned version with `npx` (into the npm cache volume)
and only when the token is there; without the token the step is skipped. Its findings follow the npm audit rules
(`security.audit`: `fail_on`, the allowlist by Snyk, GHSA or CVE id, `on_unavailable` when Snyk cannot be used).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from ci.stages.security.audit import LOCKFILE, RUN_ENV, Policy, load, summary, unavailable
from ci.core.findings import finding, verdict
from ci.core.report import Finding
from ci.core.step import Judgement, ReportError, Step, StepRun

STEP_ID = "security/audit/snyk"
SECRET = "snyk-token"
VERSION = "1.1307.4"
ARGV = ("npx", "--yes", f"snyk@{VERSION}", "test", "--json")
ENV = {**RUN_ENV, "SNYK_DISABLE_ANALYTICS": "1"}


def ids(vuln: dict[str, Any]) -> list[str]:
    """Snyk's id and the GHSA and CVE ids it lists: any of them names the issue in the allowlist."""
    identifiers = vuln.get("identifiers") or {}
    return [str(vuln.get("id", "")), *(str(i) for key in ("GHSA", "CVE") for i in identifiers.get(key) or [])]


def parse(data: dict[str, Any], policy: Policy) -> list[Finding]:
    """One finding per Snyk issue and installed package version (the dependency paths become `paths`)."""
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for vuln in data.get("vulnerabilities") or []:
        key = (str(vuln.get("id")), str(vuln.get("packageName")), str(vuln.get("version")))
        grouped.setdefault(key, []).append(vuln)
    found = []
    for (issue, package, version), same in sorted(grouped.items()):
        vuln = same[0]
        level = "moderate" if vuln.get("severity") == "medium" else str(vuln.get("severity"))
        severity, note = policy.classify(ids(vuln), level)
        fixed = vuln.get("fixedIn") or []
        fix = f"fixed in {', '.join(fixed)}" if fixed else "no fix available"
        message = f"{package}@{version}: {vuln.get('title', '(no title)')} ({level}; {fix})"
        message += f"; {note}" if note else ""
        found.append(finding(issue, severity, LOCKFILE, None, None, message, package=package, level=level,
                             scope="prod", paths=[" > ".join(v.get("from") or []) for v in same],
                             identifiers=vuln.get("identifiers") or {}, cvss=vuln.get("cvssScore")))
    return found


def judge(run: StepRun, policy: Policy) -> Judgement:
    """Snyk's JSON: its report, or its error (`ok: false` with `error`: Snyk could not be used, `unavailable`)."""
    data = load(run.stdout, "snyk's output")
    if not isinstance(data, dict):
        raise ReportError("snyk's output is not one JSON object (was --all-projects given?)")
    if "vulnerabilities" not in data:
        if data.get("error"):
            return unavailable(f"Snyk answered: {str(data['error']).splitlines()[0]}", policy)
        raise ReportError("snyk printed neither a report nor an error")
    found = parse(data, policy)
    return replace(verdict(found, None), reason=f"prod: {summary(found)}; fails from {policy.fail_on} up")


def step(policy: Policy, node_major: int) -> Step:
    # Snyk exits 1 when it found issues and 2 when it could not test (auth, network); 3 (no project) is a crash.
    return Step(id=STEP_ID, tool="snyk", argv=ARGV, node_major=node_major, env=ENV, secrets={"SNYK_TOKEN": SECRET},
                needs_secrets=True, finding_codes=frozenset({1, 2}), timeout_s=600,
                judge=functools.partial(judge, policy=policy))
