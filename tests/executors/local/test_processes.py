"""Child processes never outlive their step: timeouts and cancellation kill the whole process group."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from ci.executors.local.processes import run_captured


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_dead(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def spawner(tmp_path: Path) -> list[str]:
    """A command that starts a grandchild (as test runners and servers do), records its pid, then waits."""
    return ["sh", "-c", f"sleep 60 & echo $! > {tmp_path}/child.pid; wait"]


def child_pid(tmp_path: Path) -> int:
    deadline = time.monotonic() + 5
    while not (tmp_path / "child.pid").is_file() or not (tmp_path / "child.pid").read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return int((tmp_path / "child.pid").read_text())


def test_output_and_exit_code_are_captured(tmp_path: Path):
    code, out, err, error = asyncio.run(run_captured(["sh", "-c", "echo out; echo err >&2; exit 3"],
                                                     str(tmp_path), dict(os.environ), 10))
    assert (code, out, err, error) == (3, b"out\n", b"err\n", None)


def test_a_missing_command_is_an_error_not_an_exception(tmp_path: Path):
    code, _, _, error = asyncio.run(run_captured(["node_modules/.bin/nope"], str(tmp_path), dict(os.environ), 10))
    assert code is None and "was not found" in error


def test_a_timeout_kills_the_process_group(tmp_path: Path):
    started = time.monotonic()
    code, _, _, error = asyncio.run(run_captured(spawner(tmp_path), str(tmp_path), dict(os.environ), 1))
    assert code is None and error.startswith("timed out after 1 s")
    assert time.monotonic() - started < 10
    assert wait_dead(child_pid(tmp_path)), "the grandchild survived the timeout"


def test_cancellation_like_ctrl_c_kills_the_process_group(tmp_path: Path):
    async def cancel_soon():
        task = asyncio.ensure_future(run_captured(spawner(tmp_path), str(tmp_path), dict(os.environ), 60))
        child = await asyncio.to_thread(child_pid, tmp_path)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return child

    assert wait_dead(asyncio.run(cancel_soon())), "the grandchild survived cancellation"
