"""Local services: found on PATH or beside this Python, waited for, stopped, and a clear error when they do not start."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ci.executors.local import services
from ci.executors.local.executor import minimal_env
from ci.core.errors import CouldNotRun
from ci.core.step import Service

# A web server that first writes 1 MB to stderr: more than a pipe holds, so it would block if nobody read its log.
CHATTY = ("import sys, http.server; sys.stderr.write('x' * 1_000_000); sys.stderr.flush(); "
          "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()")

ENV = minimal_env(os.environ)


def service(*argv: str) -> Service:
    return Service(name="fake", image="unused", port=0, args=(), local_argv=argv, url_env="FAKE_URL")


def test_a_command_beside_this_python_is_found_without_path(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert services.find(Path(sys.executable).name) == str(Path(sys.executable).parent / Path(sys.executable).name)
    assert services.find("no-such-command-here") is None


def test_a_missing_command_cannot_run():
    async def start():
        async with services.started(service("no-such-command-here", "{port}"), ENV):
            pass

    with pytest.raises(CouldNotRun, match="could not start fake: `no-such-command-here` is not installed"):
        asyncio.run(start())


def test_a_service_that_exits_is_a_one_line_error_with_its_stderr_fast():
    async def start():
        async with services.started(service("sh", "-c", "echo 'address {port} in use' >&2; exit 4"), ENV):
            pass

    t = time.monotonic()
    with pytest.raises(CouldNotRun) as caught:
        asyncio.run(start())
    assert "exited with code 4: address " in str(caught.value) and "\n" not in str(caught.value)
    assert time.monotonic() - t < 10


def test_a_chatty_service_is_served_and_stopped():
    async def use() -> tuple[str, int]:
        async with services.started(service(sys.executable, "-c", CHATTY, "{port}"), ENV) as running:
            url = running.url
            status = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).status)
        return url, status

    url, status = asyncio.run(use())
    assert status == 200
    with pytest.raises(OSError):  # stopped when the block ended
        urllib.request.urlopen(url, timeout=2)


def test_what_ran_is_the_version_of_the_package_whose_script_the_server_runs(monkeypatch, tmp_path: Path):
    """A console script of a package installed only for the interpreter its shebang names (here through PYTHONPATH),
    not for this Python: the version comes from the environment that really ran it."""
    site = tmp_path / "site"
    (site / "fakesrv-1.2.3.dist-info").mkdir(parents=True)
    (site / "fakesrv-1.2.3.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fakesrv\nVersion: 1.2.3\n")
    (site / "fakesrv-1.2.3.dist-info" / "entry_points.txt").write_text("[console_scripts]\nfake_server = x:main\n")
    script = tmp_path / "bin" / "fake_server"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\n{CHATTY}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PYTHONPATH", str(site))

    async def use() -> dict[str, str]:
        async with services.started(service(str(script), "{port}"), ENV) as running:
            return await running.described()

    assert asyncio.run(use()) == {"name": "fake", "version": "1.2.3"}


def test_a_server_that_is_no_python_script_is_named_without_a_version():
    async def use() -> dict[str, str]:
        async with services.started(service(sys.executable, "-c", CHATTY, "{port}"), ENV) as running:
            return await running.described()  # `python -c`: no script, so no package to name

    assert asyncio.run(use()) == {"name": "fake"}
