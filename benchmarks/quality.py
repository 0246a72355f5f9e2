"""`bayon quality` on the sample app, dependencies installed, against ESLint (JSON), `tsc --noEmit --pretty false`
and `prettier --list-different` run one after another by hand in an installed copy: 5 rounds in the same run, the
median ratio printed (target <= 0.8). The install is timed apart.

Two by-hand baselines are timed in every round:
- the three tools as a developer runs them (no caches): what the target is about, since bayon's tool caches are part
  of what it does for its user;
- the exact argv of bayon's steps, with the same tool caches kept from round to round: the orchestration alone.

    .venv/bin/python benchmarks/quality.py      # BAYON_CACHE_DIR=... reuses an install
"""

from __future__ import annotations

import dataclasses
import statistics

from common import Bench, machine, verdict
from ci.step import Step

ROUNDS = 5
TARGET = 0.8
CACHE_FLAGS = {"--cache": 0, "--incremental": 0, "--cache-strategy": 1, "--cache-location": 1, "--tsBuildInfoFile": 1}


def uncached(step: Step) -> Step:
    """The step as the tool is run by hand: its argv without the cache flags, no cache volumes."""
    argv, skip = [], 0
    for arg in step.argv:
        if skip:
            skip -= 1
        elif arg in CACHE_FLAGS:
            skip = CACHE_FLAGS[arg]
        else:
            argv.append(arg)
    return dataclasses.replace(step, argv=tuple(argv), caches=())


def main() -> None:
    bench = Bench()
    try:
        print(f"benchmark: bayon quality vs the same tools by hand ({machine()})")
        bench.install()
        steps = bench.steps("quality")
        plain = [uncached(s) for s in steps]
        for step in plain:
            print(f"by hand: {' '.join(step.argv)}")
        ratios, same_argv = [], []
        for i in range(1, ROUNDS + 1):
            bayon_s, _ = bench.bayon("quality")
            hand_s = bench.run_by_hand(plain)
            cached_s = bench.run_by_hand(steps)
            ratios.append(bayon_s / hand_s)
            same_argv.append(bayon_s / cached_s)
            print(f"round {i}: bayon quality {bayon_s:.1f} s | by hand {hand_s:.1f} s | ratio {ratios[-1]:.2f} "
                  f"| bayon's own argv and caches by hand {cached_s:.1f} s, ratio {same_argv[-1]:.2f}")
        print(verdict(ratios, TARGET))
        print(f"median ratio against bayon's own argv and caches run one after another (orchestration alone): "
              f"{statistics.median(same_argv):.2f}")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
