"""`bayon ci` on the sample app, dependencies installed, against the same steps run one after another by hand (moto
started for the integration tests there too; the tools without the caches bayon adds, and again with bayon's own argv
and caches): 3 rounds in the same run, the median ratio printed (target <= 0.65
on 2 cores), the critical path, and the first (cold caches) against a later (warm caches) run. The by-hand commands
come from `ci`'s own steps, so the benchmark follows the stages as they are added.

    .venv/bin/python benchmarks/ci.py      # BAYON_CACHE_DIR=... reuses an install (and warm build caches)
"""

from __future__ import annotations

from common import Bench, as_run_by_hand, critical_path, machine, side_by_side, verdict

ROUNDS = 3
TARGET = 0.65


def main() -> None:
    bench = Bench()
    try:
        print(f"benchmark: bayon ci vs the same steps by hand ({machine()})")
        bench.install()
        steps = bench.steps("ci")
        for step in steps:
            services = f" (with {', '.join(s.name for s in step.services)})" if step.services else ""
            print(f"by hand: {step.id}: {' '.join(as_run_by_hand(step).argv)}{services}")
        ratios, reports = side_by_side(bench, "ci", steps, ROUNDS)
        print(verdict(ratios, TARGET))
        for i, report in enumerate(reports, 1):
            stages = ", ".join(f"{s['name']} {s['status']} {s['duration_s']:.1f}s" for s in report.get("stages", []))
            print(f"round {i} stages: {stages}")
            print(f"round {i} critical path: {critical_path(report)}")
        cold, warm = reports[0]["wall_s"], reports[-1]["wall_s"]
        print(f"warm caches: round {ROUNDS} took {warm:.1f} s of steps against {cold:.1f} s in round 1 (cold caches)")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
