"""The Dagger surface: one documented function per pipeline stage or step, each a thin call into `functions`.

Gates return their report when they pass and fail the call (non-zero `dagger call` exit) with the report as the
error when they do not. The local CLI `bayon` is derived from these declarations (names, flags, docs).
"""

from __future__ import annotations

from typing import Annotated

import dagger
from dagger import DefaultPath, Doc, Ignore, function, object_type

from . import functions
from .dagger_executor import DaggerExecutor
from .jest import COVERAGE
from .render import render
from .report import Report
from .sources import SOURCE_IGNORE

Source = Annotated[
    dagger.Directory,
    DefaultPath("."),
    Ignore(list(SOURCE_IGNORE)),
    Doc("The app to run on (its package.json, lockfile and pipeline.yaml at the top), e.g. examples/coagent"),
]
Format = Annotated[str, Doc("How to print the report: table, json, markdown or github (annotations + table)")]
RepoPath = Annotated[str, Doc("Where the source sits in the repository, prefixed to annotation paths (e.g. examples/coagent)")]
NpmToken = Annotated[dagger.Secret | None, Doc("Token for a private npm registry, given to the install step only")]
Stages = Annotated[list[str] | None, Doc("Run only these stages of ci (e.g. quality)")]
SkipStages = Annotated[list[str] | None, Doc("Skip these stages of ci (reported as skipped)")]
GateName = Annotated[str, Doc("The gate whose reports to export: ci, quality, lint, typecheck, format-check or unit-tests")]
PlanName = Annotated[str, Doc("The function to plan: ci, quality, lint, typecheck, format-check, unit-tests, lint-fix, "
                              "format-fix")]
Shard = Annotated[str | None, Doc("Run only shard i of n of the unit tests (e.g. 1/2), for a CI matrix; the coverage "
                                  "gate is then left to merge-coverage")]
ShardReports = Annotated[list[dagger.Directory], Doc("Each shard's exported reports directory "
                                                     "(`reports --function unit-tests --shard i/n`)")]


class GateFailed(Exception):
    """The gate's verdict was "failed": the message is the whole report, so the failing call shows it."""


def _executor(source: dagger.Directory, npm_token: dagger.Secret | None) -> DaggerExecutor:
    return DaggerExecutor(source, secrets={"npm-token": npm_token} if npm_token else {})


async def _gate(name: str, source: dagger.Directory, fmt: str, repo_path: str, npm_token: dagger.Secret | None,
                only: list[str] | None = None, skip: list[str] | None = None, shard: str | None = None) -> str:
    report = await functions.gate(name, _executor(source, npm_token), only or (), skip or (), shard)
    return _verdict(report, fmt, repo_path)


def _verdict(report: Report, fmt: str, repo_path: str) -> str:
    """The rendered report when it passed; otherwise GateFailed with it, so the call fails."""
    text = render(report, fmt, repo_path)
    if not report.passed:
        raise GateFailed(text)
    return text


async def _coverage_files(directory: dagger.Directory) -> dict[str, bytes]:
    """The coverage-final.json files of an exported reports directory, by path."""
    return {path: (await directory.file(path).contents()).encode()
            for path in await directory.glob(f"**/{COVERAGE}")}


async def _fix(name: str, source: dagger.Directory, npm_token: dagger.Secret | None) -> dagger.Changeset:
    executor = _executor(source, npm_token)
    (step,) = functions.FIXERS[name](await functions.load(executor))
    return await executor.changes(step)


@object_type
class Ci:
    """Bayon Pipeline: CI/CD stages for a Next.js + TypeScript app on AWS, as Dagger Functions."""

    @function
    async def ci(self, source: Source, only: Stages = None, skip: SkipStages = None, format: Format = "table",
                 repo_path: RepoPath = "", npm_token: NpmToken = None) -> str:
        """Run every stage of continuous integration concurrently (today: quality)."""
        return await _gate("ci", source, format, repo_path, npm_token, only, skip)

    @function
    async def quality(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                      npm_token: NpmToken = None) -> str:
        """Code quality: ESLint, TypeScript and Prettier, run concurrently."""
        return await _gate("quality", source, format, repo_path, npm_token)

    @function
    async def lint(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                   npm_token: NpmToken = None) -> str:
        """ESLint: fails on any error or on more warnings than quality.max_warnings."""
        return await _gate("lint", source, format, repo_path, npm_token)

    @function
    async def typecheck(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                        npm_token: NpmToken = None) -> str:
        """TypeScript: `tsc --noEmit`; fails on any diagnostic."""
        return await _gate("typecheck", source, format, repo_path, npm_token)

    @function
    async def format_check(self, source: Source, format: Format = "table", repo_path: RepoPath = "",
                           npm_token: NpmToken = None) -> str:
        """Prettier: fails on any file that is not formatted."""
        return await _gate("format_check", source, format, repo_path, npm_token)

    @function
    async def lint_fix(self, source: Source, npm_token: NpmToken = None) -> dagger.Changeset:
        """`eslint --fix`: the changes to export (`dagger call lint-fix --source=. export --path=.`)."""
        return await _fix("lint_fix", source, npm_token)

    @function
    async def format_fix(self, source: Source, npm_token: NpmToken = None) -> dagger.Changeset:
        """`prettier --write`: the changes to export (`dagger call format-fix --source=. export --path=.`)."""
        return await _fix("format_fix", source, npm_token)

    @function
    async def unit_tests(self, source: Source, shard: Shard = None, format: Format = "table", repo_path: RepoPath = "",
                         npm_token: NpmToken = None) -> str:
        """Jest with coverage on every configured Node major (and shard), in parallel; then the coverage gate."""
        return await _gate("unit_tests", source, format, repo_path, npm_token, shard=shard)

    @function
    async def merge_coverage(self, source: Source, shards: ShardReports, format: Format = "table",
                             repo_path: RepoPath = "") -> str:
        """Merge the coverage data of `unit-tests --shard i/n` runs and apply the coverage gate (no Jest needed)."""
        directories = [(f"shards[{i}]", await _coverage_files(d)) for i, d in enumerate(shards)]
        report = await functions.merge_coverage(_executor(source, None), directories)
        return _verdict(report, format, repo_path)

    @function
    async def reports(self, source: Source, function: GateName = "ci", npm_token: NpmToken = None,
                      shard: Shard = None) -> dagger.Directory:
        """Run a gate and return its report files (report.json, report.md, each tool's report), pass or fail."""
        executor = _executor(source, npm_token)
        report = await functions.gate(function.replace("-", "_"), executor, shard=shard)
        return executor.report_directory(functions.report_files(report))

    @function
    async def plan(self, source: Source, function: PlanName) -> str:
        """The steps a function would run, as JSON: images, argv, env, caches, services (never secret values)."""
        return await functions.plan(function, _executor(source, None))
