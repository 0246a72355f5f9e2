"""`bayon lighthouse --url` against the bare `lighthouse` CLI, on one server for the sample app's production build:
1 URL x 2 form factors x 3 runs through bayon against the same six runs of the CLI by hand (the same Chromium flags,
JSON and HTML output), in the same run; the ratio printed (target <= 1.15: the orchestration, the report files and the
judge add little to Lighthouse's own time). The build is made once beforehand and counts on neither side.

    .venv/bin/python benchmarks/lighthouse.py      # BAYON_CACHE_DIR=... reuses an install
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

from common import ROOT, Bench, machine

from ci.core.executor import STEP_ENV
from ci.core.step import AppService
from ci.executors.local.services import started
from ci.executors.local.tools import chrome, tool_path
from ci.stages.build.nextjs import build_argv
from ci.config import load_config
from ci.stages.performance import lighthouse

RUNS = 3
TARGET = 1.15
FLAGS = ("--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
         "--disable-component-update --disable-sync --no-first-run")
"""The flags `ci/scripts/lighthouse-runs.mjs` gives Chromium (the same on both sides)."""


def bayon(bench: Bench, url: str) -> float:
    out = bench.tmp / "lighthouse-report.json"
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ci.cli", "lighthouse", "--source", str(bench.app), "--url", url,
                           "--runs", str(RUNS), "--format", "json", "-o", str(out)], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"bayon lighthouse could not run (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return took


def by_hand(bench: Bench, url: str, env: dict[str, str]) -> float:
    (bench.tmp / "by-hand-lh").mkdir(exist_ok=True)
    t = time.perf_counter()
    for form_factor in ("desktop", "mobile"):
        for run in range(1, RUNS + 1):
            preset = ["--preset=desktop"] if form_factor == "desktop" else []
            out = bench.tmp / "by-hand-lh" / f"root-{form_factor}-{run}"
            subprocess.run(["lighthouse", url + "/", *preset, "--output=json", "--output=html", f"--output-path={out}",
                            f"--chrome-flags={FLAGS}", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


async def side_by_side(bench: Bench, env: dict[str, str]) -> None:
    """One server for the build, bayon's six runs, then the CLI's six, against it."""
    (step,) = lighthouse.steps(load_config(""))
    served = next(s for s in step.services if isinstance(s, AppService))
    async with started(served, env, cwd=bench.by_hand) as server:
        print(f"serving the build at {server.url} (ci/scripts/{lighthouse.SERVE}) for both sides")
        bayon_s = await asyncio.to_thread(bayon, bench, server.url)
        hand_s = await asyncio.to_thread(by_hand, bench, server.url, env)
    ratio = bayon_s / hand_s
    print(f"bayon lighthouse {bayon_s:.1f} s | lighthouse by hand {hand_s:.1f} s ({hand_s / (2 * RUNS):.1f} s a run)"
          f" | ratio {ratio:.2f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})")


def main() -> None:
    bench = Bench()
    try:
        print(f"benchmark: bayon lighthouse --url vs the bare lighthouse CLI, 1 URL x 2 form factors x {RUNS} runs "
              f"({machine()})")
        bench.install()
        bench.reset_by_hand([])
        env = {**os.environ, **STEP_ENV, "PATH": tool_path(os.environ.get("PATH")), "CHROME_PATH": chrome(os.environ)}
        t = time.perf_counter()
        subprocess.run(build_argv(load_config("").build), cwd=bench.by_hand, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"next build: {time.perf_counter() - t:.1f} s, once, not counted below")
        asyncio.run(side_by_side(bench, env))
    finally:
        bench.close()


if __name__ == "__main__":
    main()
