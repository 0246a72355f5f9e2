"""What each pipeline function does, independent of the executor running it.

The Dagger module (`ci/main.py`) and the local CLI (`ci/cli.py`) both call these with their own executor, so the
two never drift: Dagger turns the results into strings, Directories and Changesets; the CLI into output and exit
codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import anyio

from . import build, changes, github_api, integration, quality, sarif, sast, secrets_scan, security, unit_tests
from .config import Config, load_config
from .errors import UsageError, unwrap_groups
from .executor import Executor
from .gate import Aggregate, run_steps
from .render import render
from .report import Finding, Report, StepResult
from .step import Step

StepsFor = Callable[[Config], list[Step]]
AggregatesFor = Callable[[Config], list[Aggregate]]
UnavailableFor = Callable[[Config], frozenset[str]]


@dataclass(frozen=True)
class Stage:
    """A gate's steps for a config, the stage-level judges (aggregates) run over their results, and the ids of the
    steps whose `unavailable` the config lets pass (e.g. `security.audit.on_unavailable: warn`). A stage that
    `takes_base` builds its steps as `steps(config, base)`: `--base` (a git revision) scopes what it scans."""

    steps: StepsFor
    aggregates: AggregatesFor = lambda config: []
    allowed_unavailable: UnavailableFor = lambda config: frozenset()
    takes_base: bool = False


STAGES: dict[str, Stage] = {
    "quality": Stage(quality.steps),
    "unit_tests": Stage(unit_tests.steps, unit_tests.aggregates),
    "integration_tests": Stage(integration.steps),
    "build": Stage(build.steps),
}
"""The stages `ci` runs, in order; `--only` / `--skip` take these names."""

GATES: dict[str, Stage] = {
    **STAGES,
    "lint": Stage(quality.lint),
    "typecheck": Stage(quality.typecheck),
    "format_check": Stage(quality.format_check),
    "security": Stage(security.steps, security.aggregates, security.allowed_unavailable, takes_base=True),
    "secrets": Stage(secrets_scan.steps, takes_base=True),
    "sast": Stage(sast.steps, takes_base=True),
    "audit": Stage(security.audit_steps, security.audit_aggregates, security.allowed_unavailable),
    "licenses": Stage(security.licenses_steps),
    "sbom": Stage(security.sbom_steps),
}
"""Functions that pass or fail: they return their report, or fail the call with it. `security` is not one of `ci`'s
STAGES: it has its own workflow and schedule (its audit depends on advisory data, not only on the commit)."""

FIXERS: dict[str, StepsFor] = {"lint_fix": quality.lint_fix, "format_fix": quality.format_fix}
"""Functions that rewrite the source: locally in place, in Dagger as a Changeset to export."""

OUTPUTS: dict[str, tuple[StepsFor, str]] = {"build_output": (build.steps, build.OUT_DIR)}
"""Functions that return a directory their one step writes (relative to its workdir), whatever its judge says:
Dagger returns it to export, bayon copies it to `-o PATH`."""


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


def ci_steps(config: Config, only: Sequence[str] = (), skip: Sequence[str] = (),
             docs_only: str | None = None) -> tuple[list[Step], dict[str, str]]:
    """Every stage's steps, and why those left out are skipped: `--only` / `--skip`, or `docs_only` (the reason) for
    the test and build steps when `--base` found documentation changes only."""
    left_out = selected(only, skip)
    steps, reasons = [], {}
    for name, stage in STAGES.items():
        stage_steps = stage.steps(config)
        steps += stage_steps
        if name in left_out:
            reasons.update({s.id: left_out[name] for s in stage_steps})
        elif docs_only:
            reasons.update({s.id: docs_only for s in stage_steps if s.id.startswith(changes.SKIPPED_PREFIXES)})
    return steps, reasons


async def _ci(executor: Executor, config: Config, only: Sequence[str], skip: Sequence[str], base: str) -> Report:
    """Every stage at once; `base` first runs the git step, whose docs-only verdict skips the test and build steps.

    A stage whose steps are all left out runs none of its stage-level judges either (they would judge nothing).
    """
    scope, docs_only = await changes.detect(executor, base, config.tests.docs_patterns) if base else (None, None)
    steps, reasons = ci_steps(config, only, skip, docs_only)
    left_out = selected(only, skip)
    members: dict[str, list[str]] = {}
    aggregates: list[Aggregate] = []
    for name, stage in STAGES.items():
        ids = members[name] = [s.id for s in stage.steps(config)]
        if name not in left_out and not (ids and all(i in reasons for i in ids)):
            aggregates += [_recorded(a, ids) for a in stage.aggregates(config)]
    allowed = frozenset().union(*(stage.allowed_unavailable(config) for name, stage in STAGES.items()
                                  if name not in left_out))
    report = await run_steps("ci", executor, steps, allowed_unavailable=allowed, skip_reasons=reasons,
                             aggregates=aggregates)
    return replace(report, steps=(scope, *report.steps) if scope else report.steps,
                   stages={name: tuple(ids) for name, ids in members.items()})


def _recorded(aggregate: Aggregate, ids: list[str]) -> Aggregate:
    """The aggregate, also noting the id of the result it adds among its stage's step ids."""

    def judge(report: Report) -> tuple[StepResult, tuple[Finding, ...]]:
        result, found = aggregate(report)
        ids.append(result.id)
        return result, found

    return judge


def _one_stage(function: str, report: Report) -> Report:
    """A single gate's report, its steps (installs aside) grouped as one stage named after the function."""
    return replace(report, stages={function: tuple(s.id for s in report.steps if not s.id.startswith("setup/"))})


def steps_of(function: str, config: Config) -> list[Step]:
    """The steps a function would run (what `plan` prints)."""
    if function == "ci":
        return ci_steps(config)[0]
    if function in GATES:
        return GATES[function].steps(config)
    if function in FIXERS:
        return FIXERS[function](config)
    if function in OUTPUTS:
        return OUTPUTS[function][0](config)
    names = ", ".join(["ci", *GATES, *FIXERS, *OUTPUTS])
    raise UsageError(f"plan: no function {function!r}; choose from {names}")


@unwrap_groups
async def gate(function: str, executor: Executor, only: Sequence[str] = (), skip: Sequence[str] = (),
               shard: str | None = None, base: str = "", baseline: str = "") -> Report:
    """Run a gate function: `ci` (every stage) or one stage or step; `shard` (i/n) runs one shard of unit_tests;
    `base` (a git revision, `ci` only) skips the test and build steps when only documentation changed since it;
    `baseline` (`build` only) is the bundle-size baseline file in the source, instead of `build.baseline`."""
    if shard is not None and function != "unit_tests":
        raise UsageError(f"--shard {shard}: only unit-tests runs by shard")
    if base and function != "ci" and not (function in GATES and GATES[function].takes_base):
        takers = ", ".join(["ci", *(name for name, stage in GATES.items() if stage.takes_base)])
        raise UsageError(f"--base {base}: only {takers} take a base revision")
    one = unit_tests.Shard.parse(shard) if shard is not None else None
    config = await load(executor)
    if baseline:
        config = await _with_baseline(function, executor, config, baseline)
    if one is not None:
        return _one_stage(function, await run_steps(function, executor, unit_tests.steps(config, one),
                                                    aggregates=unit_tests.aggregates(config, one)))
    if function == "ci":
        return await _ci(executor, config, only, skip, base)
    if function not in GATES:
        raise UsageError(f"no gate {function!r}; choose from ci, {', '.join(GATES)}")
    stage = GATES[function]
    steps = stage.steps(config, base) if stage.takes_base else stage.steps(config)
    return _one_stage(function, await run_steps(function, executor, steps,
                                                stage.allowed_unavailable(config), aggregates=stage.aggregates(config)))


async def _with_baseline(function: str, executor: Executor, config: Config, baseline: str) -> Config:
    """The config with `build.baseline` set to a `--baseline` file, which must exist in the source."""
    if function != "build":
        raise UsageError(f"--baseline {baseline}: only build compares bundle sizes with a baseline")
    if await executor.read_source_file(baseline) is None:
        raise UsageError(f"--baseline {baseline}: no such file in the source; give its path relative to the app, "
                         f"e.g. {config.build.baseline}")
    return replace(config, build=replace(config.build, baseline=baseline))


async def output(function: str, executor: Executor) -> tuple[Step, str]:
    """The step of an `OUTPUTS` function and the directory it writes."""
    steps_for, path = OUTPUTS[function]
    (step,) = steps_for(await load(executor))
    return step, path


async def merge_coverage(executor: Executor, directories: Sequence[tuple[str, Mapping[str, bytes]]]) -> Report:
    """Merge the shards' coverage (each directory's coverage-final.json files by path) and apply the coverage gate."""
    return unit_tests.merge_report((await load(executor)).tests, directories)


async def plan(function: str, executor: Executor) -> str:
    """The steps a function would run, as JSON: images, argv, env, caches, services (never secret values)."""
    config = await load(executor)
    return json.dumps([s.plan() for s in steps_of(function.replace("-", "_"), config)], indent=2) + "\n"


def report_files(report: Report) -> dict[str, bytes]:
    """The files `reports` exports: the JSON, Markdown and merged SARIF report plus each tool's own report files."""
    return {"report.json": report.dumps().encode(), "report.md": render(report, "markdown").encode(),
            sarif.FILE: sarif.dumps(report), **report.artifacts}


async def code_scanning(report: Report, upload: github_api.Upload,
                        transport: github_api.Transport = github_api.urllib_transport) -> Report:
    """The report plus one step: its merged SARIF uploaded to GitHub code scanning (`crashed`, failing the gate, when
    GitHub refuses it)."""
    result = await anyio.to_thread.run_sync(github_api.upload_report, report, upload, transport)
    stages = {name: (*ids, result.id) if name == report.function else ids for name, ids in report.stages.items()}
    return replace(report, steps=(*report.steps, result), stages=stages)
