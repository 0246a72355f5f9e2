"""Run the docs-only git step (`ci --base REF`) and turn its answer into the skip reason for tests and build.

The step itself, its parsing and the pattern matching are `ci.stages.setup.changes` (pure); this is the one place
that runs it, because git's answer decides which other steps run at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from ci.core.errors import CouldNotRun, UsageError
from ci.core.executor import Executor
from ci.core.report import StepResult
from ci.core.scheduler import judge_run, to_result
from ci.core.text import stderr_tail
from ci.stages.setup.changes import BAD_REF_EXIT, SHALLOW_HINT, SHELL_NOT_FOUND, STEP_ID, ZERO_SHA, docs_only, parse, step


async def detect(executor: Executor, base: str, patterns: Sequence[str]) -> tuple[StepResult, str | None]:
    """Run the git step: its result for the report, and the docs-only skip reason (None: run everything).

    A REF git cannot resolve is a usage error (exit 2); git that could not run at all is CouldNotRun (exit 3).
    """
    if base == ZERO_SHA:
        reason = f"--base {ZERO_SHA[:7]}… is a new branch's previous commit: nothing to compare, running everything"
        return StepResult(STEP_ID, "git", "skipped", reason=reason), None
    git = step(base, patterns)
    run = await executor.run(git)
    if run.error or run.exit_code == SHELL_NOT_FOUND:
        detail = (run.error or stderr_tail(run.stderr, 1)).splitlines()[0]
        raise CouldNotRun(f"--base {base}: git could not run: {detail}; install git (`bayon doctor` says how)")
    if run.exit_code != 0:
        detail = (stderr_tail(run.stderr, 1) or f"git exited with code {run.exit_code}").removeprefix("fatal: ")
        hint = SHALLOW_HINT if run.exit_code == BAD_REF_EXIT else "run `ci` on an app inside a git checkout"
        raise UsageError(f"--base {base}: {detail}; {hint}")
    return to_result(git, run, judge_run(git, run)), docs_only(parse(run.stdout, base), patterns)
