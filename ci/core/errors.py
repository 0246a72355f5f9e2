"""Errors that end a run before any verdict, each with the exit code the CLI returns for it."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BayonError(Exception):
    """A one-line problem the user can fix; `exit_code` is what `bayon` exits with."""

    exit_code = 2


class UsageError(BayonError):
    """Bad flags or arguments (exit 2)."""


class CouldNotRun(BayonError):
    """A tool or service the run needs is missing or would not start (exit 3)."""

    exit_code = 3


def one_line(exc: BaseException) -> str:
    """`Type: first line of the message`: how an unexpected exception shows in a step's reason."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else '(no message)'}"


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The exception a task group really failed with: its first leaf that is not a cancellation of a sibling."""
    leaves = list(_leaves(group))
    return next((e for e in leaves if not isinstance(e, asyncio.CancelledError)), leaves[0])


def _leaves(group: BaseExceptionGroup) -> Iterator[BaseException]:
    for exc in group.exceptions:
        yield from _leaves(exc) if isinstance(exc, BaseExceptionGroup) else (exc,)


def unwrap_groups(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Re-raise the first real error of an ExceptionGroup escaping the coroutine function `fn`, so the CLI and the
    Dagger runtime show it (`could not start moto ...`) rather than `unhandled errors in a TaskGroup`."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except BaseExceptionGroup as group:
            raise first_error(group) from None

    return wrapper
