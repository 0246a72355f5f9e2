"""Child processes that never outlive their step: each runs in its own process group, killed as a whole."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

GRACE_S = 3.0


async def stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the process group, SIGKILL it after a grace period; safe to call twice.

    Once the leader has exited, whatever it left behind in its group (test workers, servers) is killed outright.
    """
    if proc.returncode is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), GRACE_S)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


async def run_captured(
    argv: list[str], cwd: str, env: dict[str, str], timeout_s: float
) -> tuple[int | None, bytes, bytes, str | None]:
    """Run to completion; returns (exit code, stdout, stderr, error). Timeout or cancellation kills the group."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        return None, b"", b"", f"`{argv[0]}` was not found (is the app's dependency install complete?)"
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout_s)
    except asyncio.TimeoutError:
        await stop_group(proc)
        return None, b"", b"", f"timed out after {timeout_s:.0f} s; raise the step's timeout or look for a hang"
    finally:
        await asyncio.shield(stop_group(proc))
    return proc.returncode, stdout, stderr, None
