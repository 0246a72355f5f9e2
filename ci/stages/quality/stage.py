"""The quality stage: ESLint, tsc and Prettier, run concurrently, each judged on its own report."""

from __future__ import annotations

from ci.stages.quality import eslint
from ci.stages.quality import prettier
from ci.stages.quality import tsc
from ci.config import Config
from ci.core.step import Step


def lint(config: Config, caches: bool = True) -> list[Step]:
    return [eslint.step(config.node, config.quality.max_warnings, caches)]


def typecheck(config: Config, caches: bool = True) -> list[Step]:
    return [tsc.step(config.node, caches)]


def format_check(config: Config, caches: bool = True) -> list[Step]:
    return [prettier.step(config.node, caches)]


def steps(config: Config, caches: bool = True) -> list[Step]:
    """The stage's steps, minus those pipeline.yaml turned off; `caches=False` (`--no-cache`) without tool caches."""
    q = config.quality
    return [*(lint(config, caches) if q.lint else []), *(typecheck(config, caches) if q.typecheck else []),
            *(format_check(config, caches) if q.format else [])]


def lint_fix(config: Config, caches: bool = True) -> list[Step]:
    return [eslint.fix_step(config.node, config.quality.max_warnings, caches)]


def format_fix(config: Config, caches: bool = True) -> list[Step]:
    return [prettier.fix_step(config.node, caches)]
