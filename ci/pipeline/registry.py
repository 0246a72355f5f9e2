"""Every pipeline function by kind: gates (stages and steps that pass or fail), fixers and outputs.

One table, read by the runner and, through it, by both faces: a function is added here once and `dagger call`,
`bayon` and `plan` know it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ci.config import Config
from ci.core.errors import UsageError
from ci.core.scheduler import Aggregate
from ci.core.step import Step
from ci.stages.build import nextjs
from ci.stages.infra import stage as infra
from ci.stages.performance import lighthouse
from ci.stages.quality import stage as quality
from ci.stages.security import sast, secrets
from ci.stages.security import stage as security
from ci.stages.tests import integration, unit

StepsFor = Callable[..., list[Step]]
"""Builds a function's steps from the config (and `base` for a stage that takes it, `caches` for one whose tools
keep caches, the app's templates for one that runs per template)."""
AggregatesFor = Callable[[Config], list[Aggregate]]
UnavailableFor = Callable[[Config], frozenset[str]]


@dataclass(frozen=True)
class Stage:
    """A gate's steps for a config, the stage-level judges (aggregates) run over their results, and the ids of the
    steps whose `unavailable` the config lets pass (e.g. `security.audit.on_unavailable: warn`). A stage that
    `takes_base` builds its steps as `steps(config, base)`: `--base` (a git revision) scopes what it scans; one that
    is `cached` as `steps(config, caches=...)`: its tools keep caches, which `--no-cache` turns off; one that
    `takes_templates` as `steps(config, templates)`: one step per SAM/CloudFormation template of the app (the runner
    finds them, `runner.infra_templates`)."""

    steps: StepsFor
    aggregates: AggregatesFor = lambda config: []
    allowed_unavailable: UnavailableFor = lambda config: frozenset()
    takes_base: bool = False
    cached: bool = False
    takes_templates: bool = False

    def build(self, config: Config, base: str = "", caches: bool = True, templates: Sequence[str] = ()) -> list[Step]:
        """The stage's steps for a config, a base revision, whether tools keep their caches and the app's
        templates."""
        if self.takes_templates:
            return self.steps(config, list(templates))
        if self.takes_base:
            return self.steps(config, base)
        return self.steps(config, caches=caches) if self.cached else self.steps(config)


STAGES: dict[str, Stage] = {
    "quality": Stage(quality.steps, cached=True),
    "unit_tests": Stage(unit.stage_steps, unit.aggregates),
    "integration_tests": Stage(integration.steps),
    "build": Stage(nextjs.steps, cached=True),
}
"""The stages `ci` runs, in order; `--only` / `--skip` take these names."""

GATES: dict[str, Stage] = {
    **STAGES,
    "lint": Stage(quality.lint, cached=True),
    "typecheck": Stage(quality.typecheck, cached=True),
    "format_check": Stage(quality.format_check, cached=True),
    "security": Stage(security.steps, security.aggregates, security.allowed_unavailable, takes_base=True),
    "secrets": Stage(secrets.steps, takes_base=True),
    "sast": Stage(sast.steps, takes_base=True),
    "audit": Stage(security.audit_steps, security.audit_aggregates, security.allowed_unavailable),
    "licenses": Stage(security.licenses_steps),
    "sbom": Stage(security.sbom_steps),
    "validate_infra": Stage(infra.steps, takes_templates=True),
    "lighthouse": Stage(lighthouse.steps),
}
"""Functions that pass or fail: they return their report, or fail the call with it. `security` is not one of `ci`'s
STAGES: it has its own workflow and schedule (its audit depends on advisory data, not only on the commit); nor is
`lighthouse` (audits run next to a build would measure the build; the runner's `lighthouse` runs it, with its
`--url` and `--runs`)."""

FIXERS: dict[str, StepsFor] = {"lint_fix": quality.lint_fix, "format_fix": quality.format_fix}
"""Functions that rewrite the source with one step (`steps(config, caches=...)`): locally in place, in Dagger as a
Changeset to export."""

@dataclass(frozen=True)
class Output:
    """A function that returns the directory `path` (relative to its workdir) its one step writes (`steps(config,
    caches=...)`); `absent` says, from the step's report files, why a step that ran wrote no such directory (None
    when it did)."""

    steps: StepsFor
    path: str
    absent: Callable[[Mapping[str, bytes]], str | None]


OUTPUTS: dict[str, Output] = {"build_output": Output(nextjs.steps, nextjs.OUT_DIR, nextjs.no_export)}
"""Functions that return a directory their one step writes, whatever its judge says: Dagger returns it to export,
bayon copies it to `-o PATH`."""


def ci_members(config: Config, caches: bool = True) -> dict[str, list[Step]]:
    """Each of `ci`'s stages and its steps, in order."""
    return {name: stage.build(config, caches=caches) for name, stage in STAGES.items()}


def steps_of(function: str, config: Config, templates: Sequence[str] = ()) -> list[Step]:
    """The steps a function would run (what `plan` prints); `templates` for a gate that `takes_templates`."""
    if function == "ci":
        return [step for steps in ci_members(config).values() for step in steps]
    if function in GATES:
        return GATES[function].build(config, templates=templates)
    if function in FIXERS:
        return FIXERS[function](config)
    if function in OUTPUTS:
        return OUTPUTS[function].steps(config)
    names = ", ".join(["ci", *GATES, *FIXERS, *OUTPUTS, "preview_changes", "package", "promote", "deploy", "rollback",
                       "smoke", "history", "configure_github", "check_approval", "route", "init"])
    raise UsageError(f"plan: no function {function!r}; choose from {names}")
