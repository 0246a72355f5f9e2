"""Renderers for a `Report`: a readable table, JSON, Markdown (job summaries, PR comments) and GitHub annotations."""

from __future__ import annotations

import io
import json
import posixpath
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from ci.core.errors import UsageError
from ci.core.report import SCHEMA_VERSION, Finding, Report, StepResult
from ci.core.text import fit, kebab
from ci.output import timeline

FORMATS = ("table", "json", "markdown", "github")
MAX_ROWS = 200
ICONS = {"passed": "✅", "failed": "❌", "crashed": "💥", "skipped": "⏭️", "unavailable": "⚠️"}


def render(report: Report, fmt: str, repo_path: str = "") -> str:
    """The report in one of `FORMATS`; `repo_path` prefixes finding paths for GitHub annotations."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: unknown format; choose from {', '.join(FORMATS)}")
    if fmt == "json":
        return dumps(report)
    if fmt == "markdown":
        return markdown(report)
    if fmt == "github":
        return "".join(line + "\n" for line in annotations(report, repo_path)) + table(report)
    return table(report)


def failure_line(report: Report) -> str:
    """The first line of a failed gate's error: the Dagger SDK prefixes an error message with its own text, so the
    report (whose first line may be an annotation) starts on the line after this one."""
    if report.outcome:
        return outcome_line(report)
    errors = sum(f.severity == "error" for f in report.findings)
    not_passed = sum(s.status not in ("passed", "skipped") for s in report.steps)
    return (f"{kebab(report.function)} failed: {not_passed} step(s) not passed, {errors} error(s); "
            "the report follows")


def outcome_line(report: Report) -> str:
    """A failed delivery function's first line, which says where the environment is: `rolled back to RELEASE`,
    `NOT at a known release`, or that nothing was changed."""
    where = report.delivery
    env, release, why = where.get("environment", "?"), str(where.get("release") or "")[:12], where.get("reason", "")
    what = f"{kebab(report.function)} of {release} to {env}" if release else f"{kebab(report.function)} of {env}"
    if report.outcome == "rolled_back":
        return f"{what} failed: rolled back to {str(where.get('restored'))[:12]}; {why}"
    if report.outcome == "unrecoverable":
        return f"{what} failed: {env} is NOT at a known release; {why}"
    return f"{what} failed: {why}"


def report_json(report: Report) -> dict[str, Any]:
    """The report as the one JSON shape (`ci/schemas/report.schema.json`), timing extensions included."""
    return {
        "schema_version": SCHEMA_VERSION,
        "function": report.function,
        "passed": report.passed,
        "duration_s": round(report.duration_s, 3),
        "steps": [s.to_json() for s in report.steps],
        "findings": [f.to_json() for f in report.findings],
        **timeline.timing(report),
        **({"tables": [t.to_json() for t in report.tables]} if report.tables else {}),
        **({"outcome": report.outcome} if report.outcome else {}),
        **({"delivery": dict(report.delivery)} if report.delivery else {}),
    }


def dumps(report: Report) -> str:
    """`report_json` as the text `--format json` prints and `report.json` holds."""
    return json.dumps(report_json(report), indent=2) + "\n"


def verdict_line(report: Report) -> str:
    """`quality: PASSED in 4.2 s (0 finding(s))`; when an install failed, what failed and why, and what did not run:
    `ci: FAILED: setup/install/node22 crashed (`npm ci` exited with code 1: ...), 9 step(s) not run`."""
    blocked = [s for s in report.steps if s.blocked_by]
    if blocked:
        failed = [s for s in report.steps if s.id in {b.blocked_by for b in blocked}]
        causes = ", ".join(f"{s.id} {s.status} ({_headline(s.reason)})" for s in failed)
        return f"{report.function}: FAILED: {causes}, {len(blocked)} step(s) not run"
    word = "PASSED" if report.passed else "FAILED"
    outcome = f"; outcome {report.outcome}" if report.outcome else ""
    return f"{report.function}: {word} in {report.duration_s:.1f} s ({len(report.findings)} finding(s)){outcome}"


def _headline(reason: str) -> str:
    """A reason's first sentence: its first line up to the first full stop."""
    first = reason.strip().split("\n", 1)[0]
    return first.split(". ", 1)[0].rstrip(".") or "no reason given"


def critical_path_line(timing: dict) -> str:
    """`wall 13.9 s; critical path: a 1.5s (11%) → b 12.3s (88%)` from `timeline.timing`."""
    links = " → ".join(f"{c['id']} {c['duration_s']:.1f}s ({c['share']:.0%})" for c in timing["critical_path"])
    return f"wall {timing['wall_s']:.1f} s; critical path: {links or '(no step ran)'}"


def against(step: StepResult) -> str:
    """The step's reason, then what it ran against: `...; against moto 5.2.1` (the version that ran on this host) or
    `against moto motoserver/moto:5.1.4` (the image in Dagger)."""
    ran = ", ".join(" ".join(filter(None, (s["name"], s.get("version") or s.get("image")))) for s in step.services)
    return "; ".join(filter(None, (step.reason, ran and f"against {ran}")))


def location(f: Finding) -> str:
    return ":".join(str(p) for p in (f.file, f.line, f.column) if p is not None) or "-"


def table(report: Report) -> str:
    """A plain-text table (rich, no colour codes) that reads well in a terminal and in CI logs."""
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    steps = Table(title=f"{report.function}: steps", title_justify="left")
    for column in ("step", "tool", "version", "status", "time", "reason"):
        steps.add_column(column, overflow="fold")
    for s in report.steps:
        steps.add_row(s.id, s.tool, s.tool_version or "", s.status, f"{s.duration_s:.1f}s", against(s))
    console.print(steps)
    timing = timeline.timing(report)
    if timing.get("stages"):
        stages = Table(title="stages", title_justify="left")
        for column in ("stage", "status", "time"):
            stages.add_column(column)
        for stage in timing["stages"]:
            stages.add_row(stage["name"], stage["status"], f"{stage['duration_s']:.1f}s")
        console.print(stages)
    if report.findings:
        found = Table(title="findings", title_justify="left")
        for column in ("location", "severity", "rule", "message"):
            found.add_column(column, overflow="fold")
        for f in report.findings[:MAX_ROWS]:
            found.add_row(location(f), f.severity, f.rule, f.message)
        console.print(found)
        if len(report.findings) > MAX_ROWS:
            console.print(f"... and {len(report.findings) - MAX_ROWS} more (see --format json)")
    for summary in report.tables:
        console.print(f"{summary.step}: {summary.title}", soft_wrap=True)  # a title wider than its table stays whole
        rows = Table()
        for column in summary.columns:
            rows.add_column(column, overflow="fold")
        for row in summary.rows:
            rows.add_row(*map(_text, row))
        console.print(rows)
    console.print(critical_path_line(timing))
    console.print(verdict_line(report), soft_wrap=True)  # one line, however long: what a log search finds
    return out.getvalue()


def _text(value: object) -> str:
    """A summary table's cell as text: nothing for None, numbers as they read (`97`, `0.05`)."""
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown(report: Report) -> str:
    """Markdown for a job summary or PR comment."""
    timing = timeline.timing(report)
    lines = [f"## {ICONS['passed' if report.passed else 'failed']} {verdict_line(report)}", ""]
    if timing.get("stages"):
        lines += ["| stage | status | time |", "| --- | --- | --- |"]
        lines += [f"| {s['name']} | {ICONS[s['status']]} {s['status']} | {s['duration_s']:.1f}s |" for s in timing["stages"]]
        lines += [""]
    lines += [_cell(critical_path_line(timing)), "",
              "| step | tool | status | time | reason |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| `{s.id}` | {s.tool} {s.tool_version or ''} | {ICONS[s.status]} {s.status} | {s.duration_s:.1f}s "
              f"| {_cell(against(s))} |" for s in report.steps]
    if report.findings:
        lines += ["", "| location | severity | rule | message |", "| --- | --- | --- | --- |"]
        lines += [f"| `{location(f)}` | {f.severity} | `{f.rule}` | {_cell(f.message)} |"
                  for f in report.findings[:MAX_ROWS]]
    for summary in report.tables:
        lines += ["", f"**{summary.step}: {summary.title}**", "", "| " + " | ".join(summary.columns) + " |",
                  "| " + " | ".join("---" for _ in summary.columns) + " |"]
        lines += ["| " + " | ".join(_cell(_text(value)) for value in row) + " |" for row in summary.rows]
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Caps:
    """How many annotations GitHub shows: `per_level` errors, warnings and notices per step, `per_job` in all, and
    the characters of a message it keeps (actions/toolkit problem-matchers.md; actions/runner ExecutionContext.cs)."""

    per_level: int = 10
    per_job: int = 50
    message: int = 4096


GITHUB_CAPS = Caps()
ANNOTATED = ("error", "warning")
"""Severities that become annotations, in the order they are given GitHub's slots; info findings stay in the table."""


def annotations(report: Report, repo_path: str = "", caps: Caps = GITHUB_CAPS) -> list[str]:
    """The findings as workflow commands within GitHub's caps, errors first, then warnings; when some do not fit, a
    last `::notice::` says how many and where the whole report is (it takes one of the job's slots)."""
    candidates = [f for level in ANNOTATED for f in report.findings if f.severity == level]
    kept: list[Finding] = []
    for f in candidates:
        if sum(k.severity == f.severity for k in kept) < caps.per_level and len(kept) < caps.per_job:
            kept.append(f)
    if len(kept) < len(candidates) and len(kept) == caps.per_job:
        kept.pop()  # the notice needs a slot
    lines = [annotation(f, repo_path, caps.message) for f in kept]
    left_out = len(candidates) - len(kept)
    if left_out:
        lines.append(f"::notice::{left_out} more error(s) and warning(s) not annotated (GitHub shows at most "
                     f"{caps.per_level} of each per step and {caps.per_job} per job); see the table below, or the full "
                     f"report: `reports --function {kebab(report.function)}` (report.json) or "
                     "`--format json`")
    return lines


def annotation(f: Finding, repo_path: str = "", max_message: int = GITHUB_CAPS.message) -> str:
    """A GitHub workflow command (`::error file=...,line=...::message`) that the runner turns into an annotation;
    the message is cut to what GitHub keeps."""
    level = {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
    props = []
    if f.file:
        props.append(f"file={_escape_property(posixpath.join(repo_path, f.file) if repo_path else f.file)}")
    if f.line:
        props.append(f"line={f.line}")
    if f.column:
        props.append(f"col={f.column}")
    props.append(f"title={_escape_property(f'{f.tool} {f.rule}')}")
    return f"::{level} {','.join(props)}::{_escape_data(fit(f.message, max_message))}"
