"""Small helpers judges share to build findings and verdicts from parsed tool reports."""

from __future__ import annotations

import os
from collections.abc import Iterable

from ci.core.report import Finding, Severity
from ci.core.step import Judgement


def relative(path: str, root: str) -> str:
    """A tool's path made relative to the directory it ran in (paths outside it are kept as given)."""
    if not os.path.isabs(path) or not root:
        return path.removeprefix("./")
    rel = os.path.relpath(path, root)
    return path if rel.startswith("..") else rel


def finding(rule: str, severity: Severity, file: str | None, line: int | None, column: int | None, message: str,
            **extra: object) -> Finding:
    """A finding whose step and tool the gate fills in (judges do not repeat them)."""
    return Finding(step="", tool="", rule=rule, severity=severity, file=file, line=line, column=column,
                   message=message, extra=dict(extra))


def verdict(findings: Iterable[Finding], max_warnings: int | None = 0) -> Judgement:
    """Fail on any error, and on more warnings than allowed (None: warnings never fail)."""
    found = tuple(findings)
    errors = sum(f.severity == "error" for f in found)
    warnings = sum(f.severity == "warning" for f in found)
    summary = f"{errors} error(s), {warnings} warning(s)"
    if errors:
        return Judgement("failed", found, summary)
    if max_warnings is not None and warnings > max_warnings:
        return Judgement("failed", found, f"{summary}: more than the {max_warnings} warning(s) allowed")
    return Judgement("passed", found, summary if found else "clean")


def no_files(path: str) -> str:
    """The reason of a scan that read no file: it fails, as a scan of a folder that is not the app must never pass."""
    return f"scanned no files under {path}: check --source/--repo-path"
