"""The unit-test stage: Jest on every configured Node major (and shard) in parallel, then one coverage gate.

Step ids are `tests/unit/node<major>`, or `tests/unit/node<major>/shard<i>of<n>` when `tests.shards` splits the
tests. Coverage is the same code on every major, so the gate (`tests/coverage`) reads one major's data: the first
configured major that ran, its shards merged in Python (`ci.stages.tests.coverage`). A run in which no configured major could run
fails. `--shard i/n` runs one shard for a CI matrix and leaves the gate to `merge-coverage`, which merges the
shards' exported reports and applies it.
"""

from __future__ import annotations

import functools
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
from ci.core.step import ReportError, Step

COVERAGE_ID = "tests/coverage"
COVERAGE_TOOL = "coverage"
SHARD_USAGE = "use i/n with 1 <= i <= n, e.g. --shard 1/2"
STEP_PATH = re.compile(r"(?:^|/)tests/unit/node(\d+)(?:/shard(\d+)of(\d+))?/" + re.escape(jest.COVERAGE) + "$")
MERGE_INPUTS = (jest.COVERAGE, jest.COBERTURA)
"""The files merge-coverage reads from each shard's reports directory (the Cobertura report for its root)."""

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
    return judge(files, tests.coverage, f"Node {major}")


def _load(origin: str, data: bytes, cobertura: bytes | None) -> coverage.CoverageMap:
    """One coverage-final.json, keyed relative to the directory Jest ran in when its Cobertura report says which."""
    parsed = coverage.parse(data, f"{origin}/{jest.COVERAGE}")
    if cobertura is None:
        return parsed
    return coverage.relativize(parsed, coverage.source_root(cobertura, f"{origin}/{jest.COBERTURA}"))


def judge(files: Sequence[CoverageFile], minimum: Coverage, where: str) -> tuple[StepResult, tuple[Finding, ...]]:
    """Merge the coverage files and hold each metric to its threshold; unreadable data is `crashed`."""
    try:
        merged = coverage.merge((origin, _load(origin, data, cobertura)) for origin, data, cobertura in files)
    except ReportError as exc:
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "crashed", reason=str(exc)), ()
    totals = coverage.summarize(merged)
    if totals["statements"].total == 0:
        reason = "the coverage data measures no code; set collectCoverageFrom in the Jest config to the app's sources"
        return StepResult(COVERAGE_ID, COVERAGE_TOOL, "failed", reason=reason), ()
    found, parts = [], []
    for metric in coverage.METRICS:
        got, want = totals[metric], getattr(minimum, metric)
        low = got.pct < want
        parts.append(f"{metric} {got.pct:g}% {'<' if low else '>='} {want:g}%")
        if low:
            message = (f"{metric} coverage is {got.pct:g}% ({got.covered}/{got.total}), below the {want:g}% minimum "
                       f"(tests.coverage.{metric})")
            found.append(replace(
                finding(f"coverage/{metric}", "error", None, None, None, message, metric=metric, pct=got.pct,
                        threshold=want, covered=got.covered, total=got.total),
                step=COVERAGE_ID, tool=COVERAGE_TOOL))
    merged_from = f", {len(files)} shards merged" if len(files) > 1 else ""
    reason = f"{where}{merged_from}: " + ", ".join(parts)
    return StepResult(COVERAGE_ID, COVERAGE_TOOL, "failed" if found else "passed", reason=reason), tuple(found)


def aggregates(config: Config, only: Shard | None = None) -> list[Aggregate]:
    return [functools.partial(gate, tests=config.tests, only=only)]


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
    result, found = judge([file for file, _ in chosen], tests.coverage, where)
    return Report(function="merge_coverage", steps=(result,), findings=found)


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
