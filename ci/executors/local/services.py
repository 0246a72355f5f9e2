"""Start a step's services on the local host: a free 127.0.0.1 port, waited for, and always stopped."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

from ci.core.errors import CouldNotRun
from ci.executors.local.processes import stop_group
from ci.executors.local.tools import find
from ci.core.step import Service

READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (urllib.error.URLError, OSError):
        return False


@contextlib.asynccontextmanager
async def started(service: Service, timeout_s: float = READY_TIMEOUT_S) -> AsyncIterator[str]:
    """Run `service.local_argv` on a free port until the block ends; yields its base URL."""
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in service.local_argv]
    command = " ".join(argv)
    executable = find(argv[0])
    if executable is None:
        raise CouldNotRun(f"could not start {service.name}: `{argv[0]}` is not installed; run `bayon doctor`")
    # The service's log goes to a file, not a pipe nobody reads while the step runs (a full pipe would block it).
    with tempfile.TemporaryFile() as log:
        proc = await asyncio.create_subprocess_exec(
            executable, *argv[1:], stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while not await asyncio.to_thread(_answers, url + service.ready_path):
                if proc.returncode is not None or time.monotonic() > deadline:
                    await stop_group(proc)
                    log.seek(0)
                    err = log.read().decode(errors="replace").strip().splitlines()[-5:]
                    why = f"exited with code {proc.returncode}" if proc.returncode is not None else f"not ready in {timeout_s:.0f} s"
                    raise CouldNotRun(f"could not start {service.name} (`{command}`): {why}: {' | '.join(err) or 'no output'}")
                await asyncio.sleep(0.1)
            yield url
        finally:
            await stop_group(proc)
