"""One SARIF 2.1.0 log from a report: every scanner's findings, for export (`report.sarif`) and for code scanning.

A step that writes SARIF itself names it `<tool>.sarif` (Semgrep: `security/sast/semgrep.sarif`); its run goes in as
the tool wrote it. Every other tool of the report gets one run built from its findings (ESLint, tsc, detect-secrets,
npm audit, licenses, ...): the rule, level, message, file and line of each, the finding's extra fields as result
properties, and a fingerprint (rule, file, message) so code scanning keeps an alert's identity across runs. A finding
without a file has no location. Paths are relative to the source; `repo_path` prefixes them for code scanning, which
reads them relative to the repository root. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import Counter
from typing import Any

from ci.core.report import Finding, Report

VERSION = "2.1.0"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FILE = "report.sarif"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT = "bayonFinding/v1"


def native_runs(report: Report) -> dict[str, list[dict[str, Any]]]:
    """Step id → the runs of the SARIF it wrote itself (an unreadable one counts as none: its findings convert)."""
    runs = {}
    for step in report.steps:
        data = report.artifacts.get(f"{step.id}/{step.tool}.sarif")
        try:
            runs[step.id] = json.loads(data)["runs"] if data is not None else None
        except (ValueError, KeyError, TypeError):
            runs[step.id] = None
    return {step_id: found for step_id, found in runs.items() if found is not None}


def log(report: Report, repo_path: str = "") -> dict[str, Any]:
    """The merged SARIF log: the tools' own runs first, then one converted run per other tool, in report order."""
    natives = native_runs(report)
    runs = [_prefixed(run, repo_path) for step_runs in natives.values() for run in step_runs]
    by_tool: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.step not in natives:
            by_tool.setdefault(f.tool, []).append(f)
    versions = {s.tool: s.tool_version for s in reversed(report.steps) if s.tool_version}
    runs += [converted(tool, versions.get(tool), found, repo_path) for tool, found in by_tool.items()]
    return {"$schema": SCHEMA, "version": VERSION, "runs": runs}


def dumps(report: Report, repo_path: str = "") -> bytes:
    return (json.dumps(log(report, repo_path), indent=2) + "\n").encode()


def converted(tool: str, version: str | None, findings: list[Finding], repo_path: str) -> dict[str, Any]:
    """One run for a tool from its findings."""
    rules = sorted({f.rule for f in findings})
    index = {rule: i for i, rule in enumerate(rules)}
    seen: Counter[str] = Counter()
    results = []
    for f in findings:
        key = hashlib.sha256("\0".join([tool, f.rule, f.file or "", f.message]).encode()).hexdigest()[:32]
        seen[key] += 1
        result: dict[str, Any] = {
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": LEVELS[f.severity], "message": {"text": f.message},
            "partialFingerprints": {FINGERPRINT: f"{key}:{seen[key]}"},
        }
        if f.file:
            result["locations"] = [_location(f, repo_path)]
        if f.extra:
            result["properties"] = dict(f.extra)
        results.append(result)
    driver: dict[str, Any] = {"name": tool, "rules": [{"id": rule, "shortDescription": {"text": rule}} for rule in rules]}
    if version:
        driver["version"] = version
    return {"tool": {"driver": driver}, "results": results}


def _location(f: Finding, repo_path: str) -> dict[str, Any]:
    region = {k: v for k, v in (("startLine", f.line), ("startColumn", f.column)) if isinstance(v, int) and v >= 1}
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file or "", repo_path)}}
    if "startLine" in region:
        physical["region"] = region
    return {"physicalLocation": physical}


def _uri(path: str, repo_path: str) -> str:
    return posixpath.normpath(posixpath.join(repo_path.strip("/"), path)) if repo_path.strip("/") else path


def _prefixed(run: dict[str, Any], repo_path: str) -> dict[str, Any]:
    """A tool's own run with its result paths made relative to the repository root."""
    if not repo_path.strip("/"):
        return run
    run = json.loads(json.dumps(run))
    for result in run.get("results", []):
        for location in result.get("locations", []):
            artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
            if "uri" in artifact:
                artifact["uri"] = _uri(artifact["uri"], repo_path)
    return run


def located(sarif: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The log without results that have no location (code scanning shows only located ones), and how many left."""
    kept = json.loads(json.dumps(sarif))
    dropped = 0
    for run in kept.get("runs", []):
        results = run.get("results", [])
        run["results"] = [r for r in results if r.get("locations")]
        dropped += len(results) - len(run["results"])
    return kept, dropped


def result_count(sarif: dict[str, Any]) -> int:
    return sum(len(run.get("results", [])) for run in sarif.get("runs", []))
