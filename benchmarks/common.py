"""Shared by the benchmarks: an installed copy of the sample app, `bayon` timed as a user runs it, and the same
steps run one after another by hand, in the same run.

The by-hand commands are derived from the pipeline's own steps (`ci.pipeline.registry.steps_of`, filtered the way the local
executor filters them), so a benchmark stays right as stages are added. Services a step needs (moto) are started for
the by-hand run too, with the same helper, and count in its time.

Both sides start each round from the same state: a clean copy of the app with the dependencies installed, plus the
caches the steps declare (`Step.caches`, e.g. `.next/cache`), kept from round to round on both sides. Anything else a
tool leaves behind (tsc's `tsconfig.tsbuildinfo`, `out/`) is gone, as it is from bayon's scratch copy; the by-hand
copy is rebuilt before each of its runs, untimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ci.config import load_config  # noqa: E402
from ci.core.executor import substitute  # noqa: E402
from ci.pipeline.registry import steps_of  # noqa: E402
from ci.core.executor import STEP_ENV
from ci.executors.local.executor import LocalExecutor, host_node_major  # noqa: E402
from ci.executors.local.services import started  # noqa: E402
from ci.core.step import TOOL_CACHE_DIR, Step  # noqa: E402
from ci.executors.local.workspace import copy_source, ensure_install, link_tree  # noqa: E402

COAGENT = ROOT / "examples" / "coagent"


class Bench:
    """A scratch area holding a clean copy of the app (what `bayon` runs on) and an installed copy (by hand)."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="bayon-bench-"))
        os.environ.setdefault("BAYON_CACHE_DIR", str(self.tmp / "cache"))  # a warm one may be given
        self.app = self.tmp / "app"
        self.by_hand = self.tmp / "by-hand"
        self.node_modules: Path | None = None
        copy_source(COAGENT, self.app)

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def install(self) -> float:
        """`npm ci` once into bayon's install cache, which every run reuses (by hand too); seconds."""
        major = host_node_major()
        if major is None:
            sys.exit("node is not installed; the benchmarks run the real tools")
        env = {**os.environ, **STEP_ENV}
        t = time.perf_counter()
        self.node_modules, reused = asyncio.run(ensure_install(self.app, major, env))
        took = time.perf_counter() - t
        print(f"install: {took:.1f} s ({'reused the cached install' if reused else 'npm ci'}; "
              f"BAYON_CACHE_DIR={os.environ['BAYON_CACHE_DIR']}), not counted below")
        return took

    def steps(self, function: str) -> list[Step]:
        """The steps `bayon FUNCTION` runs on this host (pinned Node majors other than the host's are skipped)."""
        config = load_config((self.app / "pipeline.yaml").read_text(),
                             package_json=(self.app / "package.json").read_text())
        executor = LocalExecutor(self.app)
        try:
            return [s for s in steps_of(function, config) if executor.unavailable_reason(s) is None]
        finally:
            executor.close()

    def bayon(self, function: str) -> tuple[float, dict]:
        """`bayon FUNCTION --source APP --format json`: wall seconds (process start to exit) and the report."""
        out = self.tmp / f"{function}-report.json"
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "ci.cli", function, "--source", str(self.app), "--format", "json",
                               "-o", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            sys.exit(f"bayon {function} could not run (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        report = json.loads(out.read_text())
        if not report["passed"]:
            print(f"  warning: bayon {function} FAILED on the clean sample app; the timing is still printed")
        return took, report

    def reset_by_hand(self, steps: list[Step]) -> None:
        """A clean installed copy of the app, with the steps' declared caches linked in from the last round."""
        shutil.rmtree(self.by_hand, ignore_errors=True)
        copy_source(COAGENT, self.by_hand)
        link_tree(self.node_modules, self.by_hand / "node_modules")
        for step in steps:
            for cache in step.caches:
                kept = self.tmp / "by-hand-caches" / cache.key
                kept.mkdir(parents=True, exist_ok=True)
                target = self.by_hand / step.workdir / cache.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(kept, target_is_directory=True)

    def run_by_hand(self, steps: list[Step]) -> float:
        """Each step's argv, one after another, in a clean installed copy; seconds (service start-up included)."""
        self.reset_by_hand(steps)
        t = time.perf_counter()
        for step in steps:
            code = asyncio.run(self._one(step))
            if code not in step.ok_codes:
                print(f"  warning: by hand, {step.id} exited with {code}")
        return time.perf_counter() - t

    async def _one(self, step: Step) -> int:
        reports = self.tmp / "by-hand-reports" / step.id.replace("/", "-")
        reports.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **STEP_ENV, **{k: substitute(v, str(reports)) for k, v in step.env.items()}}
        async with contextlib.AsyncExitStack() as stack:
            for service in step.services:
                env[service.url_env] = (await stack.enter_async_context(started(service, os.environ))).url
            proc = await asyncio.create_subprocess_exec(
                *[substitute(a, str(reports)) for a in step.argv], cwd=self.by_hand / step.workdir, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return await proc.wait()


CACHE_FLAGS = {"--cache": 0, "--incremental": 0, "--cache-strategy": 1, "--cache-location": 1, "--tsBuildInfoFile": 1}
"""The flags through which bayon gives ESLint, Prettier and tsc their caches, with how many values each takes."""


def as_run_by_hand(step: Step) -> Step:
    """The step as a developer runs the tool: without the cache flags bayon adds and their cache volumes (a cache the
    tool keeps in a checkout by itself, such as Next's `.next/cache`, stays)."""
    argv, skip = [], 0
    for arg in step.argv:
        if skip:
            skip -= 1
        elif arg in CACHE_FLAGS:
            skip = CACHE_FLAGS[arg]
        else:
            argv.append(arg)
    caches = tuple(c for c in step.caches if not c.path.startswith(TOOL_CACHE_DIR))
    return dataclasses.replace(step, argv=tuple(argv), caches=caches)


def side_by_side(bench: Bench, function: str, steps: list[Step], rounds: int) -> tuple[list[float], list[dict]]:
    """`rounds` rounds of `bayon FUNCTION` against the same steps by hand, twice: as a developer runs the tools
    (`as_run_by_hand`: the ratio the target is about) and with bayon's own argv and caches (the orchestration alone).
    The order alternates between rounds, so shared OS and tool caches favour neither side. Prints each round;
    returns the first ratios and bayon's reports."""
    plain = [as_run_by_hand(s) for s in steps]
    ratios, own, reports = [], [], []
    for i in range(1, rounds + 1):
        if i % 2:
            bayon_s, report = bench.bayon(function)
            hand_s, own_s = bench.run_by_hand(plain), bench.run_by_hand(steps)
        else:
            hand_s, own_s = bench.run_by_hand(plain), bench.run_by_hand(steps)
            bayon_s, report = bench.bayon(function)
        ratios.append(bayon_s / hand_s)
        own.append(bayon_s / own_s)
        reports.append(report)
        print(f"round {i}: bayon {function} {bayon_s:.1f} s | by hand {hand_s:.1f} s | ratio {ratios[-1]:.2f} "
              f"| bayon's argv and caches by hand {own_s:.1f} s, ratio {own[-1]:.2f}")
    print(f"median ratio against bayon's own argv and caches run one after another (the orchestration alone): "
          f"{statistics.median(own):.2f}")
    return ratios, reports


def verdict(ratios: list[float], target: float) -> str:
    median = statistics.median(ratios)
    return f"median ratio: {median:.2f} (target <= {target}: {'met' if median <= target else 'NOT met'})"


def critical_path(report: dict) -> str:
    links = " → ".join(f"{c['id']} {c['duration_s']:.1f}s ({c['share']:.0%})" for c in report.get("critical_path", []))
    return f"wall {report.get('wall_s', 0):.1f} s: {links}"


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, load average {load:.1f} at the start"
