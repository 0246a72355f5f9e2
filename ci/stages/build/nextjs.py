"""The build stage: `next build` and the size of the JavaScript each page loads on first load.

One step, `build/next`, runs the build and then `ci/scripts/bundle-sizes.mjs`, which lists the scripts each page loads
and each script's size, raw and gzip: for a static export (`output: "export"`) from the pages in `out/`, for a
server-rendered app from Next's own manifests in `.next/`. The judge (pure) adds them up per route and in total (the distinct
chunks of every route), and fails on a size over its budget (`build.budgets`, kB = 1000 bytes of gzip) or on growth
over the baseline file by more than `build.max_growth_pct`. The baseline is a copy of an earlier `bundle-sizes.json`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from ci.config import Budgets, Config
from ci.config.model import Build
from ci.core.findings import finding, relative
from ci.core.text import stderr_tail, strip_ansi
from ci.core.report import Finding
from ci.core.step import Cache, Judgement, Needs, ReportError, Step, StepRun

STEP_ID = "build/next"
SIZES = "bundle-sizes.json"
BASELINE = "baseline.json"
SCRIPT = "bundle-sizes.mjs"
OUT_DIR = "out"
SERVER = "server"
"""`bundle-sizes.json`'s `output` for a server-rendered build (no `out/`); a static export's is "export"."""
TOTAL = "(total)"
KB = 1000
BUILD_ERROR = "next/build-error"
LOCATION = re.compile(r"^(?P<dot>\./)?(?P<file>[^\s:()]+\.[A-Za-z0-9]+)(?::(?P<line>\d+):(?P<col>\d+))?$")
"""Where Next says an error is: `./app/page.tsx:3:1` (webpack names only the file: `./app/page.tsx`)."""
TSC_ERROR = re.compile(r"^(?P<file>[^\s()]+\.[A-Za-z0-9]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<message>.+)$")
CODE_FRAME = re.compile(r"^\s*>?\s*\d*\s*\|")
"""A line of the code frame under an error (`> 3 | import ...`, `  | ^^^`): source text, never part of a message."""


@dataclass(frozen=True)
class Size:
    """The JavaScript one route loads (or, for TOTAL, every route together): bytes raw and after gzip."""

    raw: int
    gzip: int
    chunks: int


def sizes(data: bytes, what: str) -> dict[str, Size]:
    """Route → Size from a `bundle-sizes.json` (the step's, or a baseline), plus TOTAL; raises ValueError."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise ValueError(f"{what} is not a bundle-sizes.json (version 1)")
    routes, chunks = doc.get("routes"), doc.get("chunks")
    if not isinstance(routes, dict) or not isinstance(chunks, dict):
        raise ValueError(f"{what} has no routes or chunks")

    def size(paths: list[str]) -> Size:
        try:
            return Size(sum(chunks[p]["raw"] for p in paths), sum(chunks[p]["gzip"] for p in paths), len(paths))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{what} lists a chunk without its sizes: {exc}") from None

    result = {route: size(list(paths)) for route, paths in sorted(routes.items())}
    result[TOTAL] = size(sorted({p for paths in routes.values() for p in paths}))
    return result


def _kb(n: int) -> str:
    return f"{n / KB:.1f} kB"


def budget_findings(found: dict[str, Size], budgets: Budgets) -> list[Finding]:
    """A `build/budget` error for each route (and the total) whose gzip size is over its budget."""
    out = []
    for route, size in found.items():
        limit = budgets.total_gzip_kb if route == TOTAL else budgets.routes.get(route, budgets.route_gzip_kb)
        if limit is not None and size.gzip > limit * KB:
            out.append(finding("build/budget", "error", None, None, None,
                               f"{route}: {_kb(size.gzip)} gzip is over its budget of {limit:g} kB",
                               route=route, gzip_bytes=size.gzip, budget_kb=limit))
    return out


def growth_findings(found: dict[str, Size], baseline: dict[str, Size], max_pct: float) -> list[Finding]:
    """A `build/growth` error for each route (and the total) whose gzip size grew more than `max_pct` percent."""
    out = []
    for route, size in found.items():
        before = baseline.get(route)
        if before is None or before.gzip == 0:
            continue
        pct = (size.gzip - before.gzip) / before.gzip * 100
        if pct > max_pct:
            out.append(finding("build/growth", "error", None, None, None,
                               f"{route}: {_kb(size.gzip)} gzip is {pct:.1f}% over the baseline's "
                               f"{_kb(before.gzip)} (at most {max_pct:g}% allowed)",
                               route=route, gzip_bytes=size.gzip, baseline_gzip_bytes=before.gzip,
                               growth_pct=round(pct, 2)))
    return out


def cross_check(data: bytes) -> list[Finding]:
    """A warning for each route whose scripts differ from Turbopack's own list (route-bundle-stats.json)."""
    doc = json.loads(data)
    stats = doc.get("route_bundle_stats") or {}
    return [finding("build/sizes-mismatch", "warning", None, None, None,
                    f"{route}: the exported page loads other scripts than route-bundle-stats.json lists",
                    route=route, exported=sorted(paths), route_bundle_stats=sorted(stats[route]))
            for route, paths in sorted(doc["routes"].items())
            if route in stats and set(paths) != set(stats[route])]


def size_findings(found: dict[str, Size]) -> list[Finding]:
    """One `build/size` info finding per route and the total: the report's machine-readable size table."""
    return [finding("build/size", "info", None, None, None,
                    f"{route}: {_kb(s.raw)} raw, {_kb(s.gzip)} gzip in {s.chunks} script(s)",
                    route=route, raw_bytes=s.raw, gzip_bytes=s.gzip, scripts=s.chunks)
            for route, s in found.items()]


def build_error(output: str, root: str) -> Finding | None:
    """The first compiler or type error of Next's build output as a `next/build-error` finding at its file (relative to
    `root`, where the build ran) and line, or None when the output names no location.

    Next prints a located error as `./app/page.tsx:3:1` (webpack: `./app/page.tsx`, no line) and the message on the
    next lines (`Type error: ...`, `Error: Module not found: ...`), then a code frame; Next 16 prints TypeScript's
    errors in tsc's own form, `app/page.tsx(11,9): error TS2322: ...`. Only the message travels, never the code frame
    (it quotes the source).
    """
    lines = strip_ansi(output).splitlines()
    for i, line in enumerate(lines):
        if tsc := TSC_ERROR.match(line.strip()):  # its chained details follow, indented
            details = list(itertools.takewhile(lambda text: text[:1].isspace() and text.strip(), lines[i + 1:]))
            message = "\n".join([f"{tsc['message']} ({tsc['code']})", *(text.strip() for text in details)])
            return _build_error(tsc["file"], tsc["line"], tsc["col"], root, message)
        located = LOCATION.match(line.strip())
        if located and (located["line"] or located["dot"]):  # the message follows, up to a blank line or code frame
            message = list(itertools.takewhile(lambda text: text.strip() and not CODE_FRAME.match(text), lines[i + 1:]))
            if message:
                text = "\n".join(m.strip().removeprefix("Error: ") for m in message)
                return _build_error(located["file"], located["line"], located["col"], root, text)
    return None


def _build_error(file: str, line: str | None, col: str | None, root: str, message: str) -> Finding:
    return finding(BUILD_ERROR, "error", relative(file, root), int(line) if line else None, int(col) if col else None,
                   message)


def judge(run: StepRun, budgets: Budgets, max_growth_pct: float, baseline_path: str) -> Judgement:
    """A failed build (exit 1) fails the step with its first located error (else its output's tail); otherwise sizes
    against budgets and the baseline."""
    if run.exit_code == 1:
        located = build_error(run.stdout + "\n" + run.stderr, run.root)
        if located is not None:
            where = ":".join(str(part) for part in (located.file, located.line) if part)
            return Judgement("failed", (located,), f"next build failed: {where}: {located.message.splitlines()[0]}")
        tail = stderr_tail(run.stderr + "\n" + run.stdout)
        return Judgement("failed", (finding("build/failed", "error", None, None, None, tail or "next build failed"),),
                         "next build failed")
    data = run.files.get(SIZES)
    if data is None:
        raise ReportError(f"the build wrote no {SIZES}")
    try:
        found = sizes(data, SIZES)
    except ValueError as exc:
        raise ReportError(f"{SIZES} is unreadable: {exc}") from None
    problems = budget_findings(found, budgets) + cross_check(data)
    note = f"no baseline at {baseline_path}; growth not checked"
    if (base := run.files.get(BASELINE)) is not None:
        try:
            problems += growth_findings(found, sizes(base, baseline_path), max_growth_pct)
            note = f"compared with {baseline_path}"
        except ValueError as exc:
            problems.append(finding("build/baseline", "error", baseline_path, None, None,
                                    f"{exc}; replace it with a bundle-sizes.json from `bayon reports --function build`"))
            note = f"unreadable baseline {baseline_path}"
    errors = sum(f.severity == "error" for f in problems)
    routes = len(found) - 1
    kind = " (server-rendered)" if json.loads(data).get("output") == SERVER else ""
    reason = f"{routes} route(s){kind}, {_kb(found[TOTAL].gzip)} gzip in total; {note}"
    if errors:
        reason = f"{errors} error(s): {reason}"
    return Judgement("failed" if errors else "passed", (*problems, *size_findings(found)), reason)


def no_export(files: Mapping[str, bytes]) -> str | None:
    """Why a build that ran has no `out/` to return (it is server-rendered), or None for a static export."""
    try:
        output = json.loads(files[SIZES]).get("output")
    except (KeyError, ValueError, AttributeError):
        return f"the build wrote no readable {SIZES}"
    if output == SERVER:
        return (f'the app is server-rendered (no output: "export" in next.config), so next build writes no {OUT_DIR}/; '
                f'set output: "export" for a static site, or deploy .next with a Next.js server')
    return None


def build_argv(build: Build) -> tuple[str, ...]:
    """`next build` as the app's install runs it, with `--webpack` when build.bundler says so (the lighthouse step's
    service builds the same way)."""
    return ("node_modules/.bin/next", "build", *(("--webpack",) if build.bundler == "webpack" else ()))


def steps(config: Config, caches: bool = True) -> list[Step]:
    """`next build` (with `--webpack` when build.bundler says so), then the size script, in one step; `.next/cache`
    is a cache volume unless `caches=False` (`--no-cache`)."""
    b = config.build
    build = shlex.join(build_argv(b))
    measure = f'node "{{tools}}/{SCRIPT}" {OUT_DIR} "{{reports}}" {shlex.quote(b.baseline)}'
    return [Step(
        id=STEP_ID, tool="next", argv=("sh", "-c", f"{build} && {measure}"), node_major=config.node,
        judge=functools.partial(judge, budgets=b.budgets, max_growth_pct=b.max_growth_pct, baseline_path=b.baseline),
        env={"NEXT_TELEMETRY_DISABLED": "1"},
        caches=(Cache(f"bayon-next-{{lock}}-node{config.node}", ".next/cache", sharing="locked"),)  # Next rewrites it
        if caches else (),
        outputs=(SIZES, BASELINE), tools=(SCRIPT,), package="next", timeout_s=900,
        needs=Needs("next", section="dependencies"),
    )]
