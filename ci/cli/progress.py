"""A progress display for local runs: each step's start and verdict on stderr, so stdout stays the report."""

from __future__ import annotations

import sys
from collections.abc import Collection

from ci.core.executor import NO_SETUP, Executor, Setup
from ci.core.report import StepResult
from ci.core.step import Step, StepRun

MARKS = {"passed": "✔", "failed": "✘", "crashed": "✘", "skipped": "–", "unavailable": "?"}


class ProgressExecutor:
    """Wraps an executor and prints a line as each install and step starts and ends."""

    def __init__(self, inner: Executor, stream=None):
        self.inner = inner
        self.name = inner.name
        self.stream = stream

    def _say(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)  # stderr as it is now, not as it was at import

    async def read_source_file(self, path: str) -> str | None:
        return await self.inner.read_source_file(path)

    async def source_paths(self, patterns: Collection[str]) -> list[str]:
        return await self.inner.source_paths(patterns)

    def unavailable_reason(self, step: Step) -> str | None:
        return self.inner.unavailable_reason(step)

    def give_secrets(self, values) -> None:
        self.inner.give_secrets(values)

    async def output_files(self, step: Step, path: str) -> dict[str, bytes]:
        return await self.inner.output_files(step, path)

    def _done(self, result: StepResult) -> None:
        self._say(f"{MARKS[result.status]} {result.id} {result.duration_s:.1f}s {result.reason.splitlines()[0] if result.reason else ''}")

    async def install(self, node_major: int, setup: Setup = NO_SETUP) -> StepResult:
        self._say("▶ installing dependencies")
        result = await self.inner.install(node_major, setup)
        self._done(result)
        return result

    async def run_setup(self, node_major: int, setup: Setup) -> tuple[StepResult, ...]:
        self._say(f"▶ setup: {'; '.join(setup.commands)}")
        results = await self.inner.run_setup(node_major, setup)
        for result in results:
            self._done(result)
        return results

    async def run(self, step: Step) -> StepRun:
        self._say(f"▶ {step.id}: {' '.join(step.argv)}")
        run = await self.inner.run(step)
        outcome = run.error or f"exit {run.exit_code}"
        self._say(f"■ {step.id} {run.duration_s:.1f}s ({outcome})")
        return run
