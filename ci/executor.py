"""The contract both executors (Dagger and local) fulfil, so stages never know which one runs them."""

from __future__ import annotations

from typing import Protocol

from .report import StepResult
from .step import Step, StepRun

REPORTS_PLACEHOLDER = "{reports}"
"""Stands in argv and env for the directory where a step writes its report files (outside the source tree)."""


class Executor(Protocol):
    """Runs steps. `run` never raises for a tool's failure: it reports it in `StepRun.error` or the exit code."""

    name: str

    async def read_source_file(self, path: str) -> str | None:
        """A text file of the source, or None when it does not exist."""

    def unavailable_reason(self, step: Step) -> str | None:
        """Why this executor cannot run `step` here (e.g. that Node major is not on this host), or None."""

    async def install(self, node_major: int) -> StepResult:
        """Install the app's dependencies for a Node major (memoized); a `setup/install` step result."""

    async def run(self, step: Step) -> StepRun:
        """Run one step on top of the installed dependencies and collect its outputs."""


def install_id(node_major: int) -> str:
    """The step id of the dependency install for a Node major."""
    return f"setup/install/node{node_major}"


def substitute(value: str, reports_dir: str) -> str:
    """Replace the reports placeholder in an argv item or env value."""
    return value.replace(REPORTS_PLACEHOLDER, reports_dir)
