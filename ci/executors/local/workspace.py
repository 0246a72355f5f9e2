"""Local scratch copies of an app and one reusable dependency install per (lockfile, Node major).

`npm ci` runs once per lockfile hash and Node major into `$BAYON_CACHE_DIR/deps/<key>/node_modules` (default
`~/.cache/bayon`); each run hardlinks that tree into a scratch copy of the source, so a second run does not
reinstall and never writes into the user's checkout.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from ci.core.errors import CouldNotRun
from ci.core.executor import INSTALL_ARGV
from ci.core.sources import LOCK_INPUTS, ignored, lock_digest
from ci.core.text import npm_failed


def cache_root() -> Path:
    """Where installs and caches live (`BAYON_CACHE_DIR`, else `~/.cache/bayon`)."""
    return Path(os.environ.get("BAYON_CACHE_DIR") or Path.home() / ".cache" / "bayon")


def lock_hash(source: Path) -> str:
    """The hash of the app's lock inputs, as the Dagger executor computes it."""
    return lock_digest({name: (source / name).read_bytes() for name in LOCK_INPUTS if (source / name).is_file()})


def deps_key(source: Path, node_major: int, env: Mapping[str, str] | None = None) -> str:
    """The install's cache key: the lock inputs' hash, the Node major and the app's install env (it can change what
    `npm ci` installs, e.g. PUPPETEER_SKIP_DOWNLOAD)."""
    key = f"{lock_hash(source)[:16]}-node{node_major}"
    if env:
        key += "-env" + hashlib.sha256(json.dumps(dict(env), sort_keys=True).encode()).hexdigest()[:12]
    return key


@contextlib.asynccontextmanager
async def cache_lock(key: str) -> AsyncIterator[None]:
    """Hold cache `key` alone (its `sharing` is locked or private): concurrent steps and processes wait for each
    other, as the engine's locked cache volumes do (two `next build`s writing one Turbopack cache corrupt it)."""
    folder = cache_root() / "cache-locks"  # beside the caches, never among them
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.lock", "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def link_cache(key: str, target: Path) -> None:
    """The local cache volume: `$BAYON_CACHE_DIR/caches/<key>`, symlinked at `target` in a scratch copy."""
    cache = cache_root() / "caches" / key
    cache.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.symlink_to(cache, target_is_directory=True)


def source_digest(source: Path, made: Mapping[str, bytes] | None = None) -> str:
    """sha256 over every path and content of the app that `copy_source` copies, with the files `made` (path →
    content, e.g. by setup commands) on top: the source a step sees."""
    files: dict[str, bytes] = {}
    for directory, dirs, names in os.walk(source):
        rel = Path(directory).relative_to(source)
        dirs[:] = [d for d in dirs if not ignored((rel / d).as_posix().removeprefix("./"))]
        for name in names:
            path = (rel / name).as_posix().removeprefix("./")
            if not ignored(path):
                files[path] = hashlib.sha256((source / path).read_bytes()).digest()
    files.update((path, hashlib.sha256(data).digest()) for path, data in (made or {}).items())
    digest = hashlib.sha256()
    for path, content in sorted(files.items()):
        digest.update(path.encode() + b"\0" + content)
    return digest.hexdigest()


def copy_source(source: Path, dest: Path) -> None:
    """Copy the app into `dest`, leaving out what `SOURCE_IGNORE` names (installs, build output, .git)."""

    def skip(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(source)
        return {n for n in names if ignored((rel / n).as_posix().removeprefix("./"))}

    shutil.copytree(source, dest, ignore=skip, symlinks=True, dirs_exist_ok=True)


class InstallFailed(Exception):
    """`npm ci` failed (`exit_code`, None when it did not run); the message holds npm's error lines
    (`ci.core.text.npm_failed`)."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def ensure_install(source: Path, node_major: int, env: dict[str, str],
                         app_env: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The cached `node_modules` for this source's lockfile, Node major and install env (`app_env`, already in
    `env`), installing it if needed.

    Returns (path, reused). Concurrent processes serialize on a lock file; the install is built in a temporary
    directory and renamed into place, so a crash never leaves a half-installed tree behind.
    """
    if not (source / "package-lock.json").exists():
        raise InstallFailed("package-lock.json is missing; run `npm install` and commit package-lock.json")
    if shutil.which("npm") is None:
        raise CouldNotRun("npm is not installed; install Node.js 20+ with npm (e.g. `apt-get install nodejs npm`)")
    deps = cache_root() / "deps"
    deps.mkdir(parents=True, exist_ok=True)
    key = deps_key(source, node_major, app_env)
    final = deps / key
    with open(deps / f"{key}.lock", "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        if (final / "node_modules").is_dir():
            return final / "node_modules", True
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=deps))
        try:
            for name in LOCK_INPUTS:
                if (source / name).exists():
                    shutil.copy2(source / name, staging / name)
            proc = await asyncio.create_subprocess_exec(
                *INSTALL_ARGV, cwd=staging, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
            output, _ = await proc.communicate()
            if proc.returncode != 0:
                raise InstallFailed(npm_failed(INSTALL_ARGV, proc.returncode, output.decode(errors="replace")),
                                    proc.returncode)
            (staging / "node_modules").mkdir(exist_ok=True)  # npm makes none for an app without dependencies
            staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return final / "node_modules", False


def claim_scratch(source: Path) -> tuple[Path, object | None]:
    """The scratch directory for runs on `source`: the same path every run, so tools' caches (keyed by path) hit and
    the hardlinked node_modules is kept; a run that finds it busy (another run on the same source) gets a fresh
    temporary one. Returns (path, lock); the lock (None for a temporary directory) is held until released."""
    work = cache_root() / "work"
    work.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(str(source).encode()).hexdigest()[:16]
    lock = open(work / f"{name}.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return Path(tempfile.mkdtemp(prefix="bayon-")), None
    (work / name).mkdir(exist_ok=True)
    return work / name, lock


def refresh(source: Path, dest: Path, cached: Path, key: str) -> None:
    """Make `dest` a copy of the source on top of the cached node_modules: everything else a previous run left is
    removed (build output, reports, fixes), the node_modules hardlinks are kept while the install key is the same."""
    marker = dest.parent / "node_modules.key"
    keep = marker.is_file() and marker.read_text() == key and (dest / "node_modules").is_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for child in dest.iterdir():
        if keep and child.name == "node_modules":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    copy_source(source, dest)
    if not keep:
        link_tree(cached, dest / "node_modules")
        marker.write_text(key)


def link_tree(cached: Path, dest: Path) -> None:
    """Hardlink a cached node_modules into a scratch copy (`cp -al`: fast, no extra disk)."""
    result = subprocess.run(["cp", "-al", str(cached), str(dest)], capture_output=True, text=True)
    if result.returncode != 0:
        shutil.copytree(cached, dest, symlinks=True)
