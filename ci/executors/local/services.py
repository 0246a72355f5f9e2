"""Start a step's services on the local host: a free 127.0.0.1 port, waited for, and always stopped.

A `Service` runs its `local_argv` (a host tool such as moto_server); an `AppService` serves the app's production
build from the major's workspace (`argv`, its helper scripts from `ci/scripts`), built before it starts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ci.core.errors import CouldNotRun
from ci.core.executor import substitute
from ci.executors.local.processes import run_captured, stop_group
from ci.executors.local.tools import find
from ci.core.step import AppService, Service

READY_TIMEOUT_S = 30.0
VERSION_TIMEOUT_S = 10.0
SCRIPT_VERSION = ("import importlib.metadata as m, sys; print(next((ep.dist.version for ep in "
                  "m.entry_points(group='console_scripts', name=sys.argv[1])), ''))")
"""Asks an interpreter which of its packages provides a console script, and that package's version."""


@dataclass(frozen=True)
class Running:
    """A started service: its base URL, and what ran, told while the step runs (asking takes a Python start)."""

    url: str
    name: str
    version: asyncio.Task[str | None]

    async def described(self) -> dict[str, str]:
        """What ran, as `StepResult.services` holds it: the name, and the version of the package that ran it."""
        version = await self.version
        return {"name": self.name, **({"version": version} if version else {})}


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


async def script_version(pid: int) -> str | None:
    """The version of the package whose console script the process `pid` runs, or None when that cannot be told.

    The kernel started a script as `<interpreter> <script> ...` from its shebang, so `/proc/<pid>/cmdline` names the
    environment that really runs (through a venv, or a pyenv shim that execs it), whatever PATH found first; that
    interpreter says which of its packages provides the script. Linux only (no /proc elsewhere).
    """
    try:
        argv = [os.fsdecode(a) for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return None
    if len(argv) < 2 or not os.path.basename(argv[0]).startswith("python"):
        return None
    code, out, _, error = await run_captured([argv[0], "-c", SCRIPT_VERSION, os.path.basename(argv[1])], "/",
                                             dict(os.environ), VERSION_TIMEOUT_S)
    if code != 0 or error is not None:
        return None
    return out.decode(errors="replace").strip() or None


@contextlib.asynccontextmanager
async def started(service: Service | AppService, env: Mapping[str, str], timeout_s: float = READY_TIMEOUT_S,
                  cwd: Path | None = None) -> AsyncIterator[Running]:
    """Run the service (`local_argv`, or an app service's `argv` in `cwd`) on a free port with the environment `env`
    until the block ends; yields its base URL and what ran."""
    port = free_port()
    template = service.argv if isinstance(service, AppService) else service.local_argv
    argv = [substitute(part, "").replace("{port}", str(port)).replace("{host}", "127.0.0.1")
            for part in template]
    command = " ".join(argv)
    executable = find(argv[0])
    if executable is None:
        raise CouldNotRun(f"could not start {service.name}: `{argv[0]}` is not installed; run `bayon doctor`")
    # The service's log goes to a file, not a pipe nobody reads while the step runs (a full pipe would block it).
    with tempfile.TemporaryFile() as log:
        proc = await asyncio.create_subprocess_exec(
            executable, *argv[1:], env=dict(env), stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
            cwd=cwd,
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
            version = asyncio.ensure_future(script_version(proc.pid))
            try:
                yield Running(url, service.name, version)
            finally:
                version.cancel()  # a no-op once the step collected it
        finally:
            await stop_group(proc)
