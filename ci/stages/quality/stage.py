"""The quality stage: ESLint, tsc and Prettier, run concurrently, each judged on its own report."""

from __future__ import annotations

from ci.stages.quality import eslint
from ci.stages.quality import prettier
from ci.stages.quality import tsc
from ci.config import Config
from ci.core.step import Step


def lint(config: Config) -> list[Step]:
    return [eslint.step(config.node, config.quality.max_warnings)]


def typecheck(config: Config) -> list[Step]:
    return [tsc.step(config.node)]


def format_check(config: Config) -> list[Step]:
    return [prettier.step(config.node)]


def steps(config: Config) -> list[Step]:
    """The stage's steps, minus those pipeline.yaml turned off."""
    q = config.quality
    return [*(lint(config) if q.lint else []), *(typecheck(config) if q.typecheck else []),
            *(format_check(config) if q.format else [])]


def lint_fix(config: Config) -> list[Step]:
    return [eslint.fix_step(config.node, config.quality.max_warnings)]


def format_fix(config: Config) -> list[Step]:
    return [prettier.fix_step(config.node)]
