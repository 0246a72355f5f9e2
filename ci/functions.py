"""What each pipeline function does, independent of the executor running it.

The Dagger module (`ci/main.py`) and the local CLI (`ci/cli.py`) both call these with their own executor, so the
two never drift: Dagger turns the results into strings, Directories and Changesets; the CLI into output and exit
codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import quality
from .config import Config, load_config
from .errors import UsageError
from .executor import Executor
from .gate import Aggregate, run_steps
from .render import render
from .report import Report
from .step import Step

StepsFor = Callable[[Config], list[Step]]
AggregatesFor = Callable[[Config], list[Aggregate]]


@dataclass(frozen=True)
class Stage:
    """A gate's steps for a config, and the stage-level judges (aggregates) run over their results."""

    steps: StepsFor
    aggregates: AggregatesFor = lambda config: []


STAGES: dict[str, Stage] = {"quality": Stage(quality.steps)}
"""The stages `ci` runs, in order; `--only` / `--skip` take these names."""

GATES: dict[str, Stage] = {
    **STAGES,
    "lint": Stage(quality.lint),
    "typecheck": Stage(quality.typecheck),
    "format_check": Stage(quality.format_check),
}
"""Functions that pass or fail: they return their report, or fail the call with it."""

FIXERS: dict[str, StepsFor] = {"lint_fix": quality.lint_fix, "format_fix": quality.format_fix}
"""Functions that rewrite the source: locally in place, in Dagger as a Changeset to export."""


async def load(executor: Executor) -> Config:
    """The app's pipeline.yaml (defaults when absent), checked against its package.json engines."""
    text = await executor.read_source_file("pipeline.yaml")
    package_json = await executor.read_source_file("package.json")
    return load_config(text, package_json=package_json)


def selected(only: Sequence[str] = (), skip: Sequence[str] = ()) -> dict[str, str]:
    """Stage name → why `--only` / `--skip` leave it out (stages not named run)."""
    for flag, names in (("--only", only), ("--skip", skip)):
        for name in names:
            if name not in STAGES:
                raise UsageError(f"{flag} {name}: no such stage; choose from {', '.join(STAGES)}")
    return {name: (f"--skip {name}" if name in skip else f"not in --only {','.join(only)}")
            for name in STAGES if (only and name not in only) or name in skip}


def ci_steps(config: Config, only: Sequence[str] = (), skip: Sequence[str] = ()) -> tuple[list[Step], dict[str, str]]:
    """Every stage's steps, and why those that `--only` / `--skip` leave out are skipped."""
    left_out = selected(only, skip)
    steps, reasons = [], {}
    for name, stage in STAGES.items():
        stage_steps = stage.steps(config)
        steps += stage_steps
        if name in left_out:
            reasons.update({s.id: left_out[name] for s in stage_steps})
    return steps, reasons


def steps_of(function: str, config: Config) -> list[Step]:
    """The steps a function would run (what `plan` prints)."""
    if function == "ci":
        return ci_steps(config)[0]
    if function in GATES:
        return GATES[function].steps(config)
    if function in FIXERS:
        return FIXERS[function](config)
    names = ", ".join(["ci", *GATES, *FIXERS])
    raise UsageError(f"plan: no function {function!r}; choose from {names}")


async def gate(function: str, executor: Executor, only: Sequence[str] = (), skip: Sequence[str] = ()) -> Report:
    """Run a gate function: `ci` (every stage) or one stage or step."""
    config = await load(executor)
    if function == "ci":
        steps, reasons = ci_steps(config, only, skip)
        left_out = selected(only, skip)
        aggregates = [a for name, stage in STAGES.items() if name not in left_out for a in stage.aggregates(config)]
        return await run_steps(function, executor, steps, skip_reasons=reasons, aggregates=aggregates)
    if function not in GATES:
        raise UsageError(f"no gate {function!r}; choose from ci, {', '.join(GATES)}")
    stage = GATES[function]
    return await run_steps(function, executor, stage.steps(config), aggregates=stage.aggregates(config))


async def plan(function: str, executor: Executor) -> str:
    """The steps a function would run, as JSON: images, argv, env, caches, services (never secret values)."""
    config = await load(executor)
    return json.dumps([s.plan() for s in steps_of(function.replace("-", "_"), config)], indent=2) + "\n"


def report_files(report: Report) -> dict[str, bytes]:
    """The files `reports` exports: the JSON and Markdown report plus each tool's own report files."""
    return {"report.json": report.dumps().encode(), "report.md": render(report, "markdown").encode(), **report.artifacts}
