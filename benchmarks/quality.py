"""`bayon quality` on the sample app, dependencies installed, against ESLint (JSON), `tsc --noEmit --pretty false`
and `prettier --list-different` run one after another by hand in an installed copy: 5 rounds in the same run, the
median ratio printed (target <= 0.8). The install is timed apart. Each round also times bayon's own argv (with the
tool caches it keeps) run one after another, which isolates what the concurrency alone brings.

    .venv/bin/python benchmarks/quality.py      # BAYON_CACHE_DIR=... reuses an install
"""

from __future__ import annotations

from common import Bench, as_run_by_hand, machine, side_by_side, verdict

ROUNDS = 5
TARGET = 0.8


def main() -> None:
    bench = Bench()
    try:
        print(f"benchmark: bayon quality vs the same tools by hand ({machine()})")
        bench.install()
        steps = bench.steps("quality")
        for step in steps:
            print(f"by hand: {' '.join(as_run_by_hand(step).argv)}")
        ratios, _ = side_by_side(bench, "quality", steps, ROUNDS)
        print(verdict(ratios, TARGET))
    finally:
        bench.close()


if __name__ == "__main__":
    main()
