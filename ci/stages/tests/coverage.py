"""Istanbul coverage data (Jest's `coverage-final.json`): merging shards and summarising, the way istanbul does.

Pure Python, so merging the shards of a sharded run needs no Node. A coverage map is keyed by file; each file holds
`statementMap`/`s`, `fnMap`/`f` and `branchMap`/`b` (hit counts per statement, function and branch arm). The figures
follow istanbul-lib-coverage 3.x exactly: a line's hits are the most hits of any statement starting on it, and a
percentage is `floor(100000 * covered / total / 10) / 100` (100 when there is nothing to cover), so they equal
Jest's own `coverage-summary.json`.
"""

from __future__ import annotations

import json
import math
import posixpath
from xml.etree import ElementTree
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ci.core.step import ReportError

METRICS = ("lines", "branches", "functions", "statements")
MAPS = {"s": "statementMap", "f": "fnMap", "b": "branchMap"}

FileCoverage = dict[str, Any]
CoverageMap = dict[str, FileCoverage]


def percent(covered: int, total: int) -> float:
    """istanbul's percentage: rounded down to two decimals; 100 when there is nothing to cover."""
    return math.floor(100000 * covered / total / 10) / 100 if total > 0 else 100.0


@dataclass(frozen=True)
class Totals:
    """Covered out of total for one metric."""

    covered: int
    total: int

    @property
    def pct(self) -> float:
        return percent(self.covered, self.total)


def parse(data: bytes, origin: str) -> CoverageMap:
    """A `coverage-final.json` file; ReportError naming `origin` when it is not one."""
    try:
        coverage = json.loads(data)
    except ValueError as exc:
        raise ReportError(f"{origin} is not JSON: {exc}") from exc
    if not isinstance(coverage, dict):
        raise ReportError(f"{origin} is not an istanbul coverage map (a JSON object keyed by file)")
    for path, file in coverage.items():
        if not isinstance(file, dict) or any(not isinstance(file.get(k), dict) for k in (*MAPS, *MAPS.values())):
            raise ReportError(f"{origin}: the entry for {path} lacks statementMap/s, fnMap/f or branchMap/b")
        if any(file[hits].keys() != file[where].keys() for hits, where in MAPS.items()) or not _counts_ok(file):
            raise ReportError(f"{origin}: the coverage of {path} is malformed (its hit counts do not fit its maps)")
    return coverage


def _counts_ok(file: FileCoverage) -> bool:
    """Whole-number hit counts (branch arms as lists of them), and a start line for every statement."""
    def count(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    return (all(count(v) for hits in ("s", "f") for v in file[hits].values())
            and all(isinstance(arms, list) and all(map(count, arms)) for arms in file["b"].values())
            and all(isinstance(loc, dict) and isinstance(loc.get("start"), dict) and count(loc["start"].get("line"))
                    for loc in file["statementMap"].values()))


def source_root(cobertura: bytes, origin: str) -> str:
    """The directory Jest ran in, which its Cobertura report records as `<source>` (coverage-final.json's keys are
    absolute paths under it)."""
    try:
        root = ElementTree.fromstring(cobertura).findtext("sources/source")
    except ElementTree.ParseError as exc:
        raise ReportError(f"{origin} is not XML: {exc}") from exc
    if not root:
        raise ReportError(f"{origin} names no <source> directory")
    return root


def relativize(coverage: CoverageMap, root: str) -> CoverageMap:
    """The map keyed by paths relative to `root`, so shards that ran in different directories line up."""
    prefix = root.rstrip("/") + "/"
    return {posixpath.relpath(path, root) if path.startswith(prefix) else path: file for path, file in coverage.items()}


def _add(a: Any, b: Any) -> Any:
    """Hit counts added: numbers, or arrays of branch-arm counts element by element (of equal length)."""
    return [x + y for x, y in zip(a, b, strict=True)] if isinstance(a, list) else a + b


def merge(maps: Iterable[tuple[str, CoverageMap]]) -> CoverageMap:
    """The shards' coverage maps as one: hit counts summed per file.

    Shards run the same instrumented code, so a file's maps must be identical in every shard that has it; if they
    differ (shards from different commits), merging would count unrelated code, so that is a ReportError.
    """
    merged: CoverageMap = {}
    origins: dict[str, str] = {}
    for origin, coverage in maps:
        for path, file in coverage.items():
            if path not in merged:
                merged[path] = {**file, **{k: dict(file[k]) for k in MAPS}}
                origins[path] = origin
                continue
            mine = merged[path]
            arms = {key: len(counts) for key, counts in file["b"].items()}
            if any(mine[m] != file[m] for m in MAPS.values()) or arms != {k: len(c) for k, c in mine["b"].items()}:
                raise ReportError(
                    f"coverage of {path} was measured on different code in {origins[path]} and {origin}; "
                    "run every shard on the same commit"
                )
            for hits in MAPS:
                mine[hits] = {key: _add(count, file[hits][key]) for key, count in mine[hits].items()}
    return merged


def _lines(file: FileCoverage) -> dict[int, int]:
    """Hits per source line: the most hits of any statement that starts on it (istanbul's getLineCoverage)."""
    lines: dict[int, int] = {}
    for key, count in file["s"].items():
        location = file["statementMap"].get(key)
        if location is not None:
            line = location["start"]["line"]
            lines[line] = max(lines.get(line, count), count)
    return lines


def file_totals(file: FileCoverage) -> dict[str, Totals]:
    """One file's four metrics."""
    arms = [count for counts in file["b"].values() for count in counts]
    lines = _lines(file).values()
    return {
        "lines": Totals(sum(1 for c in lines if c), len(lines)),
        "branches": Totals(sum(1 for c in arms if c), len(arms)),
        "functions": Totals(sum(1 for c in file["f"].values() if c), len(file["f"])),
        "statements": Totals(sum(1 for c in file["s"].values() if c), len(file["s"])),
    }


def summarize(coverage: Mapping[str, FileCoverage]) -> dict[str, Totals]:
    """The whole map's four metrics (Jest's `total` in coverage-summary.json): file totals added up."""
    per_file = [file_totals(file) for file in coverage.values()]
    return {m: Totals(sum(t[m].covered for t in per_file), sum(t[m].total for t in per_file)) for m in METRICS}
