"""Errors: one-line messages, and task-group errors unwrapped to the error that really happened."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from ci.core.errors import CouldNotRun, first_error, one_line, unwrap_groups


def test_one_line_is_the_type_and_the_first_non_blank_line():
    assert one_line(RuntimeError("\n  boom\ntraceback")) == "RuntimeError: boom"
    assert one_line(ValueError()) == "ValueError: (no message)"


def test_first_error_skips_the_cancelled_siblings_in_nested_groups():
    real = CouldNotRun("could not start moto")
    group = BaseExceptionGroup("outer", [asyncio.CancelledError(), ExceptionGroup("inner", [real])])
    assert first_error(group) is real


def test_a_task_group_failure_surfaces_as_its_own_error():
    @unwrap_groups
    async def two_tasks():
        async def fails():
            raise CouldNotRun("could not start moto (`moto_server -p 1`): exited with code 1")

        async def slow():
            await anyio.sleep(5)

        async with anyio.create_task_group() as group:
            group.start_soon(slow)
            group.start_soon(fails)

    with pytest.raises(CouldNotRun, match="could not start moto") as info:
        asyncio.run(two_tasks())
    assert not isinstance(info.value, BaseExceptionGroup)
