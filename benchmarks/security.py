"""`bayon security` on the sample app with a generated 500-commit history, against the same scanners run one after
another by hand in the same repository, same run: the ratio printed (target <= 0.8) and the history-scan rate of the
secrets scan in commits/s. The install and the history are made first, untimed.

    .venv/bin/python benchmarks/security.py      # BAYON_CACHE_DIR=... reuses an install
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from common import Bench, machine, side_by_side, verdict
from ci.executors.local.workspace import link_tree

COMMITS = 500
ROUNDS = 3
TARGET = 0.8


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com", *args], cwd=repo,
                   check=True, stdout=subprocess.DEVNULL)


def make_history(repo: Path, commits: int) -> None:
    """The app as the first commit, then one small source change per commit (what the secrets scan walks)."""
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat: the sample app")
    history = repo / "lib" / "history.ts"
    for i in range(1, commits):
        history.write_text(f"export const revision = {i};\nexport const note = \"change number {i}\";\n")
        git(repo, "add", "lib/history.ts")
        git(repo, "commit", "-q", "-m", f"chore: revision {i}")


class HistoryBench(Bench):
    """The app is a git repository with a long history; by hand, the scanners run in it as bayon's do."""

    def reset_by_hand(self, steps) -> None:
        if not (self.app / "node_modules").exists():  # ignored by git, so the history is untouched
            link_tree(self.node_modules, self.app / "node_modules")
        self.by_hand = self.app


def main() -> None:
    bench = HistoryBench()
    try:
        print(f"benchmark: bayon security vs the same scanners by hand, {COMMITS} commits ({machine()})")
        bench.install()
        make_history(bench.app, COMMITS)
        # the Python scanners run with bayon's own interpreter on both sides, as the local executor does
        os.environ["PATH"] = os.pathsep.join((os.path.dirname(sys.executable), os.environ["PATH"]))
        steps = bench.steps("security")
        for step in steps:
            print(f"by hand: {step.id}: {' '.join(step.argv)}")
        ratios, reports = side_by_side(bench, "security", steps, ROUNDS)
        print(verdict(ratios, TARGET))
        for i, report in enumerate(reports, 1):
            (scan,) = [s for s in report["steps"] if s["id"] == "security/secrets"]
            print(f"round {i}: history scan {COMMITS} commits in {scan['duration_s']:.1f} s: "
                  f"{COMMITS / scan['duration_s']:.0f} commits/s ({scan['status']}: {scan['reason'][:80]})")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
