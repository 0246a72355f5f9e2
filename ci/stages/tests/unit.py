"""The unit-test stage: Jest on every configured Node major (and shard) in parallel, then one coverage gate.

Step ids are `tests/unit/node<major>`, or `tests/unit/node<major>/shard<i>of<n>` when `tests.shards` splits the
tests. Coverage is the same code on every major, so the gate (`tests/coverage`) reads one major's data: the first
configured major that ran, its shards merged in Python (`ci.stages.tests.coverage`). A run in which no configured major
could run fails. `--shard i/n` runs one shard for a CI matrix and leaves the gate to `merge-coverage`, which merges the
shards' exported reports and applies it.

The app's own gate is never weakened: `tests/unit/jest-config` reads its `coverageThreshold` as Jest resolves it
(`jest --showConfig`). An unsharded Jest run holds itself to all of it (global, path and glob groups). The coverage
gate holds the merged global figures to the stricter, per metric, of that `global` and `tests.coverage`. A shard alone
is partial, so shards run without thresholds, and path or glob groups, which no merged global figure can stand for,
fail a sharded run instead of being dropped.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ci.stages.tests import coverage
from ci.stages.tests import jest
from ci.config import Config, Coverage, Tests
from ci.core.errors import UsageError
from ci.core.findings import finding
from ci.core.scheduler import Aggregate
from ci.core.report import Finding, Report, StepResult
from ci.core.step import Judgement, ReportError, Step, StepRun

COVERAGE_ID = "tests/coverage"
COVERAGE_TOOL = "coverage"
CONFIG_ID = "tests/unit/jest-config"
JEST_CONFIG = "jest-config.json"
APP_GLOBAL = "coverageThreshold.global in the app's Jest config"
SHARD_USAGE = "use i/n with 1 <= i <= n, e.g. --shard 1/2"
STEP_PATH = re.compile(r"(?:^|/)tests/unit/node(\d+)(?:/shard(\d+)of(\d+))?/" + re.escape(jest.COVERAGE) + "$")
CONFIG_PATH = re.compile(r"(?:^|/)" + re.escape(f"{CONFIG_ID}/{JEST_CONFIG}") + "$")
MERGE_INPUTS = (jest.COVERAGE, jest.COBERTURA, JEST_CONFIG)
"""The files merge-coverage reads from each shard's reports directory (the Cobertura report for its root, the app's
resolved Jest config for its thresholds)."""

CoverageFile = tuple[str, bytes, bytes | None]
"""Where a coverage-final.json came from (its directory), its bytes, and its sibling Cobertura report if any."""


@dataclass(frozen=True)
class Shard:
    """Part `index` of `count` of the tests (Jest's `--shard=index/count`)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`i/n` from the command line; a UsageError saying what to write otherwise."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise UsageError(f"--shard {text}: not a shard; {SHARD_USAGE}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shards(tests: Tests, only: Shard | None = None) -> list[Shard | None]:
    """The shards each major runs: the one given, all of `tests.shards`, or [None] for an unsharded run."""
    if only is not None:
        return [only]
    return [Shard(i, tests.shards) for i in range(1, tests.shards + 1)] if tests.shards > 1 else [None]


def step_id(major: int, shard: Shard | None) -> str:
    base = f"tests/unit/node{major}"
    return base if shard is None else f"{base}/shard{shard.index}of{shard.count}"


def steps(config: Config, only: Shard | None = None) -> list[Step]:
    """One Jest step per configured Node major and shard."""
    return [
        jest.step(step_id(major, shard), major, () if shard is None else (f"--shard={shard}", "--passWithNoTests"))
        for major in config.tests.node_versions
        for shard in shards(config.tests, only)
    ]


def stage_steps(config: Config, only: Shard | None = None) -> list[Step]:
    """The stage: the app's Jest config read, and the Jest steps; none with `tests.unit: false`."""
    return [config_step(config), *steps(config, only)] if config.tests.unit else []


def config_step(config: Config) -> Step:
    """`jest --showConfig` in the app, written to `jest-config.json`: the coverageThreshold the gate honours. It runs
    on the matrix's first major, whose install the Jest steps need anyway."""
    argv = ("sh", "-c", f'{jest.BIN} --showConfig > "{{reports}}/{JEST_CONFIG}"')
    return Step(id=CONFIG_ID, tool="jest", argv=argv, judge=judge_config, node_major=config.tests.node_versions[0],
                outputs=(JEST_CONFIG,), finding_codes=frozenset(), package="jest", needs=jest.NEEDS, timeout_s=300)


def app_thresholds(data: bytes, what: str) -> dict[str, dict]:
    """The `coverageThreshold` of a `jest --showConfig` output (group → metric → number; {} when the app sets none);
    ReportError when it is not one."""
    try:
        resolved = json.loads(data)
        found = resolved["globalConfig"].get("coverageThreshold") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ReportError(f"{what} is not the output of `jest --showConfig`") from None
    if not isinstance(found, dict) or not all(isinstance(v, dict) for v in found.values()):
        raise ReportError(f"{what}: coverageThreshold is not a mapping of groups to thresholds")
    return found


def judge_config(run: StepRun) -> Judgement:
    data = run.files.get(JEST_CONFIG)
    if data is None:
        raise ReportError(f"jest --showConfig wrote no {JEST_CONFIG}")
    found = app_thresholds(data, JEST_CONFIG)
    groups = "; ".join(f"{group} " + ", ".join(f"{m} {v:g}" for m, v in sorted(values.items()))
                       for group, values in found.items())
    return Judgement("passed", reason=f"coverageThreshold: {groups}" if groups else "no coverageThreshold")


def gate(report: Report, tests: Tests, only: Shard | None = None) -> tuple[StepResult, tuple[Finding, ...]]:
    """The `tests/coverage` aggregate: the first configured major that ran, its shards merged, against thresholds."""
    by_id = {s.id: s for s in report.steps}
    groups = {m: [step_id(m, s) for s in shards(tests, only)] for m in tests.node_versions}
    ran = [m for m, ids in groups.items() if any(by_id[i].status != "skipped" for i in ids if i in by_id)]
    if not ran:
        configured = ", ".join(map(str, tests.node_versions))
        why = next((by_id[i].reason for ids in groups.values() for i in ids if i in by_id), "")
        reason = f"no configured Node major could run here (configured {configured})" + (f": {why}" if why else "")
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "failed", reason=reason), ()
    if only is not None:
        reason = f"shard {only} only: merge-coverage applies the coverage gate to every shard's coverage data"
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "skipped", reason=reason), ()
    major = ran[0]
    files = [(i, report.artifacts.get(f"{i}/{jest.COVERAGE}"), report.artifacts.get(f"{i}/{jest.COBERTURA}"))
             for i in groups[major]]
    missing = [f"{origin}/{jest.COVERAGE}" for origin, data, _ in files if data is None]
    if missing:
        reason = f"no coverage data: {', '.join(missing)} was not written"
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "crashed", reason=reason), ()
    app: dict[str, dict] = {}
    if CONFIG_ID in by_id:  # the stage reads the app's Jest config; a gate over other steps has none to honour
        data = report.artifacts.get(f"{CONFIG_ID}/{JEST_CONFIG}")
        try:
            if data is None:
                raise ReportError(f"{CONFIG_ID} {by_id[CONFIG_ID].status}")
            app = app_thresholds(data, f"{CONFIG_ID}/{JEST_CONFIG}")
        except ReportError as exc:
            reason = f"the app's Jest config was not read ({exc}): its coverageThreshold cannot be honoured"
            return StepResult(COVERAGE_ID, COVERAGE_TOOL, "crashed", reason=reason), ()
    return judge(files, tests.coverage, f"Node {major}", app, sharded=shards(tests) != [None])


def _load(origin: str, data: bytes, cobertura: bytes | None) -> coverage.CoverageMap:
    """One coverage-final.json, keyed relative to the directory Jest ran in when its Cobertura report says which."""
    parsed = coverage.parse(data, f"{origin}/{jest.COVERAGE}")
    if cobertura is None:
        return parsed
    return coverage.relativize(parsed, coverage.source_root(cobertura, f"{origin}/{jest.COBERTURA}"))


def judge(files: Sequence[CoverageFile], minimum: Coverage, where: str, app: Mapping[str, Mapping] | None = None,
          sharded: bool = False) -> tuple[StepResult, tuple[Finding, ...]]:
    """Merge the coverage files and hold each metric to its threshold: the stricter of `minimum` (tests.coverage) and
    the app's `coverageThreshold.global` (in `app`, a negative number is the most uncovered items it allows); the
    app's path and glob groups fail a `sharded` run. Unreadable data is `crashed`."""
    app = app or {}
    groups = [group for group in app if group != "global"]
    if sharded and groups:
        message = (f"the app's Jest coverageThreshold has path or glob groups ({', '.join(groups)}), which a shard "
                   "alone cannot meet and the merged global figures do not hold; set tests.shards: 1 (Jest then "
                   "holds them itself) or move them into coverageThreshold.global")
        found = replace(finding("coverage/sharded-groups", "error", None, None, None, message),
                        step=COVERAGE_ID, tool=COVERAGE_TOOL)
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "failed", reason=message), (found,)
    try:
        merged = coverage.merge((origin, _load(origin, data, cobertura)) for origin, data, cobertura in files)
    except ReportError as exc:
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "crashed", reason=str(exc)), ()
    totals = coverage.summarize(merged)
    if totals["statements"].total == 0:
        reason = "the coverage data measures no code; set collectCoverageFrom in the Jest config to the app's sources"
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "failed", reason=reason), ()
    found, parts = [], []
    app_global = app.get("global", {})
    for metric in coverage.METRICS:
        got, want, source = totals[metric], getattr(minimum, metric), f"tests.coverage.{metric}"
        theirs = app_global.get(metric)
        if isinstance(theirs, (int, float)) and theirs > want:
            want, source = theirs, f"{APP_GLOBAL}, stricter than tests.coverage.{metric}"
        low = got.pct < want
        parts.append(f"{metric} {got.pct:g}% {'<' if low else '>='} {want:g}%"
                     + (f" ({APP_GLOBAL})" if source.startswith(APP_GLOBAL) else ""))
        if low:
            message = (f"{metric} coverage is {got.pct:g}% ({got.covered}/{got.total}), below the {want:g}% minimum "
                       f"({source})")
            found.append(replace(
                finding(f"coverage/{metric}", "error", None, None, None, message, metric=metric, pct=got.pct,
                        threshold=want, covered=got.covered, total=got.total),
                step=COVERAGE_ID, tool=COVERAGE_TOOL))
        if isinstance(theirs, (int, float)) and theirs < 0:  # Jest's form for "at most N uncovered"
            uncovered, allowed = got.total - got.covered, -theirs
            over = uncovered > allowed
            parts.append(f"{metric} {uncovered} uncovered {'>' if over else '<='} {allowed:g} ({APP_GLOBAL})")
            if over:
                message = (f"{metric}: {uncovered} of {got.total} not covered, more than the {allowed:g} allowed "
                           f"({APP_GLOBAL})")
                found.append(replace(
                    finding(f"coverage/{metric}", "error", None, None, None, message, metric=metric,
                            uncovered=uncovered, allowed=allowed, covered=got.covered, total=got.total),
                    step=COVERAGE_ID, tool=COVERAGE_TOOL))
    merged_from = f", {len(files)} shards merged" if len(files) > 1 else ""
    reason = f"{where}{merged_from}: " + ", ".join(parts)
    return StepResult(COVERAGE_ID, COVERAGE_TOOL, "failed" if found else "passed", reason=reason), tuple(found)


def aggregates(config: Config, only: Shard | None = None) -> list[Aggregate]:
    return [functools.partial(gate, tests=config.tests, only=only)] if config.tests.unit else []


def merge_report(tests: Tests, directories: Sequence[tuple[str, Mapping[str, bytes]]]) -> Report:
    """`merge-coverage`: the shards' exported reports (name → {path: bytes} of their `MERGE_INPUTS` files) merged and
    gated."""
    if not directories:
        raise UsageError("merge-coverage: pass --shards DIR once for each shard's exported reports directory")
    major, chosen = _pick(tests, directories)
    specs = [spec for _, spec in chosen]
    if None in specs and any(specs):
        raise UsageError("merge-coverage: the directories mix sharded unit-test reports and bare coverage files")
    if any(specs):
        counts = {n for _, n in specs}
        indexes = sorted(i for i, _ in specs)
        if len(counts) > 1 or indexes != list(range(1, max(counts) + 1)):
            got = ", ".join(f"{i}/{n}" for i, n in sorted(specs))
            raise UsageError(f"merge-coverage: got shards {got}; pass each shard of one run exactly once")
    where = f"Node {major}" if major is not None else "coverage"
    app = _app_config(directories) if any(specs) else {}
    sharded = any("/shard" in origin for (origin, _, _), _ in chosen)
    result, found = judge([file for file, _ in chosen], tests.coverage, where, app, sharded)
    return Report(function="merge_coverage", steps=(result,), findings=found)


def _app_config(directories: Sequence[tuple[str, Mapping[str, bytes]]]) -> dict[str, dict]:
    """The app's coverageThreshold from the first shard directory holding the stage's Jest config."""
    for name, files in directories:
        for path, data in sorted(files.items()):
            if CONFIG_PATH.search(path):
                try:
                    return app_thresholds(data, f"{name}/{path}")
                except ReportError as exc:
                    raise UsageError(f"merge-coverage: {exc}") from None
    raise UsageError(f"merge-coverage: no directory holds {CONFIG_ID}/{JEST_CONFIG}, the app's Jest config (its "
                     "coverageThreshold); pass the directories `reports --function unit-tests --shard i/n` exported")


def _pick(tests: Tests, directories: Sequence[tuple[str, Mapping[str, bytes]]]
          ) -> tuple[int | None, list[tuple[CoverageFile, tuple[int, int] | None]]]:
    """The Node major chosen and the coverage files to merge, each with its shard (i, n) or None.

    In each directory: the coverage of one Node major (the first configured major present in every directory; an
    unsharded step counts as shard 1/1), else its one bare coverage-final.json (no shard).
    """
    parsed = []
    for name, files in directories:
        coverage_files = [path for path in files if posixpath.basename(path) == jest.COVERAGE]
        found = {path: m for path in coverage_files if (m := STEP_PATH.search(path))}
        bare = [path for path in coverage_files if path not in found]
        if not found and len(bare) != 1:
            what = f"{len(bare)} {jest.COVERAGE} files outside tests/unit/node<major>" if bare else f"no {jest.COVERAGE}"
            raise UsageError(f"merge-coverage: {name} holds {what}; pass the directory that "
                             "`reports --function unit-tests --shard i/n` exported, one per shard")
        parsed.append((name, files, found, bare))
    majors_each = [{int(m.group(1)) for m in found.values()} for _, _, found, _ in parsed if found]
    common = set.intersection(*majors_each) if majors_each else set()
    if majors_each and not common:
        raise UsageError("merge-coverage: no Node major's unit-test coverage is in every directory")
    major = next((m for m in tests.node_versions if m in common), min(common, default=None))

    def file(name: str, files: Mapping[str, bytes], path: str) -> CoverageFile:
        directory = posixpath.dirname(path)
        origin = posixpath.join(name, directory) if directory else name
        return origin, files[path], files.get(posixpath.join(directory, jest.COBERTURA))

    chosen: list[tuple[CoverageFile, tuple[int, int] | None]] = []
    for name, files, found, bare in parsed:
        if found:
            chosen += [(file(name, files, path), (int(m.group(2) or 1), int(m.group(3) or 1)))
                       for path, m in sorted(found.items()) if int(m.group(1)) == major]
        else:
            chosen.append((file(name, files, bare[0]), None))
    return major, chosen
