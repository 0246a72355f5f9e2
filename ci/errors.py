"""Errors that end a run before any verdict, each with the exit code the CLI returns for it."""

from __future__ import annotations


class BayonError(Exception):
    """A one-line problem the user can fix; `exit_code` is what `bayon` exits with."""

    exit_code = 2


class UsageError(BayonError):
    """Bad flags or arguments (exit 2)."""


class CouldNotRun(BayonError):
    """A tool or service the run needs is missing or would not start (exit 3)."""

    exit_code = 3
