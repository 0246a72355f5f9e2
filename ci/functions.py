"""What each pipeline function does, independent of the executor running it.

The Dagger module (`ci/main.py`) and the local CLI (`ci/cli.py`) both call these with their own executor, so the
two never drift: Dagger turns the results into strings, Directories and Changesets; the CLI into output and exit
codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from . import quality
from .config import Config, load_config
from .errors import UsageError
from .executor import Executor
from .gate import run_steps
from .render import render
from .report import Report
from .step import Step

StepsFor = Callable[[Config], list[Step]]

STAGES: dict[str, StepsFor] = {"quality": quality.steps}
"""The stages `ci` runs, in order; `--only` / `--skip` take these names."""

GATES: dict[str, StepsFor] = {
    **STAGES,
    "lint": quality.lint,
    "typecheck": quality.typecheck,
    "format_check": quality.format_check,
}
"""Functions that pass or fail: they return their report, or fail the call with it."""

FIXERS: dict[str, StepsFor] = {"lint_fix": quality.lint_fix, "format_fix": quality.format_fix}
"""Functions that rewrite the source: locally in place, in Dagger as a Changeset to export."""


async def load(executor: Executor) -> Config:
    """The app's pipeline.yaml (defaults when absent), checked against its package.json engines."""
    text = await executor.read_source_file("pipeline.yaml")
    package_json = await executor.read_source_file("package.json")
    return load_config(text, package_json=package_json)


def ci_steps(config: Config, only: Sequence[str] = (), skip: Sequence[str] = ()) -> tuple[list[Step], dict[str, str]]:
    """Every stage's steps, and why those that `--only` / `--skip` leave out are skipped."""
    for flag, names in (("--only", only), ("--skip", skip)):
        for name in names:
            if name not in STAGES:
                raise UsageError(f"{flag} {name}: no such stage; choose from {', '.join(STAGES)}")
    steps, reasons = [], {}
    for name, steps_for in STAGES.items():
        stage_steps = steps_for(config)
        steps += stage_steps
        if (only and name not in only) or name in skip:
            why = f"--skip {name}" if name in skip else f"not in --only {','.join(only)}"
            reasons.update({s.id: why for s in stage_steps})
    return steps, reasons


def steps_of(function: str, config: Config) -> list[Step]:
    """The steps a function would run (what `plan` prints)."""
    if function == "ci":
        return ci_steps(config)[0]
    for table in (GATES, FIXERS):
        if function in table:
            return table[function](config)
    names = ", ".join(["ci", *GATES, *FIXERS])
    raise UsageError(f"plan: no function {function!r}; choose from {names}")


async def gate(function: str, executor: Executor, only: Sequence[str] = (), skip: Sequence[str] = ()) -> Report:
    """Run a gate function: `ci` (every stage) or one stage or step."""
    config = await load(executor)
    if function == "ci":
        steps, reasons = ci_steps(config, only, skip)
        return await run_steps(function, executor, steps, skip_reasons=reasons)
    return await run_steps(function, executor, GATES[function](config))


async def plan(function: str, executor: Executor) -> str:
    """The steps a function would run, as JSON: images, argv, env, caches, services (never secret values)."""
    config = await load(executor)
    return json.dumps([s.plan() for s in steps_of(function.replace("-", "_"), config)], indent=2) + "\n"


def report_files(report: Report) -> dict[str, bytes]:
    """The files `reports` exports: the JSON and Markdown report plus each tool's own report files."""
    return {"report.json": report.dumps().encode(), "report.md": render(report, "markdown").encode(), **report.artifacts}
