"""Run steps as subprocesses on this host: for debugging without Docker, and for the project's own tests.

Each run works in a scratch copy of the source with the cached dependency install hardlinked in, runs every step's
argv there, enforces its timeout, and kills every child it started when the run ends or is interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from ci.core import secret_refs
from ci.core.errors import CouldNotRun
from ci.core.executor import (
    NO_SETUP, NPM_TOKEN_SECRET, SOURCE_PLACEHOLDER, STEP_ENV, Setup, cache_key, install_id, missing_secrets, setup_argv,
    setup_id, substitute,
)
from ci.core.report import StepResult
from ci.executors.local.processes import run_captured
from ci.executors.local.services import started
from ci.executors.local.tools import tool_path
from ci.core.sources import ignored
from ci.core.step import DEFAULT_TIMEOUT_S, Step, StepRun
from ci.core.text import stderr_tail
from ci.executors.local.workspace import (
    InstallFailed, claim_scratch, ensure_install, link_cache, lock_hash, refresh, source_digest,
)

def host_node_major() -> int | None:
    """The major version of `node` on PATH, or None when there is none."""
    if shutil.which("node") is None:
        return None
    out = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return int(out.lstrip("v").split(".")[0]) if out.startswith("v") else None


class LocalExecutor:
    """The `Executor` for this host. Use as `async with LocalExecutor(path) as executor:`."""

    name = "local"

    def __init__(self, source: Path, secrets: Mapping[str, str] | None = None, repo: Path | None = None,
                 repo_path: str = ""):
        self.source = Path(source).resolve()
        if not self.source.is_dir():
            raise CouldNotRun(f"source {source} is not a directory; pass --source PATH to an app checkout")
        self.secrets = dict(secrets or {})
        self.run_id = uuid.uuid4().hex
        self.repo = Path(repo).resolve() if repo else None
        self.repo_path = repo_path
        self.node = host_node_major()
        self.lock_hash = lock_hash(self.source)
        self.scratch, self._scratch_lock = claim_scratch(self.source)
        self.t0 = time.monotonic()
        self._installs: dict[int, asyncio.Task[StepResult]] = {}
        self._setups: dict[int, asyncio.Task[tuple[StepResult, ...]]] = {}
        self._app_env: dict[str, str] = {}
        self._set_up: dict[str, bytes] = {}
        """What the setup commands changed in the copy (path → content): generated files are no fixer's changes."""
        self._digest: str | None = None

    async def __aenter__(self) -> LocalExecutor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the scratch directory: a temporary one is removed; the reusable one keeps its copy for the next run."""
        if self._scratch_lock is None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        else:
            shutil.rmtree(self.scratch / "reports", ignore_errors=True)
            self._scratch_lock.close()

    @property
    def workspace(self) -> Path:
        return self.scratch / "src"

    async def read_source_file(self, path: str) -> str | None:
        file = self.source / path
        return file.read_text() if file.is_file() else None

    def unavailable_reason(self, step: Step) -> str | None:
        if self.node is None:
            raise CouldNotRun("node is not installed; install Node.js 20+ (`bayon doctor` prints the command)")
        if step.node_pinned and step.node_major != self.node:
            return (
                f"Node {step.node_major} is not on this host (it has Node {self.node}); "
                "`dagger call` runs every configured major"
            )
        return missing_secrets(step, self.secrets)

    def _major(self, node_major: int) -> int:
        """The Node major that really runs here: the host's (local steps that are not pinned run on it)."""
        return self.node if self.node is not None else node_major

    async def install(self, node_major: int, setup: Setup = NO_SETUP) -> StepResult:
        """Install once per host Node, with the app's install env (which every later command and step gets too)."""
        major = self._major(node_major)
        if major not in self._installs:
            self._app_env = dict(setup.env)
            self._installs[major] = asyncio.ensure_future(self._install(major))
        return await asyncio.shield(self._installs[major])

    async def run_setup(self, node_major: int, setup: Setup) -> tuple[StepResult, ...]:
        """Run the setup commands once per run in the scratch copy, after the install: every step runs in that copy,
        so each sees what they did."""
        major = self._major(node_major)
        if major not in self._setups:
            self._setups[major] = asyncio.ensure_future(self._run_setup(major, setup))
        return await asyncio.shield(self._setups[major])

    async def _run_setup(self, major: int, setup: Setup) -> tuple[StepResult, ...]:
        results = []
        for index, command in enumerate(setup.commands):
            started_s, t = time.monotonic() - self.t0, time.monotonic()
            code, out, err, error = await run_captured(list(setup_argv(command)), str(self.workspace), self._env({}),
                                                       DEFAULT_TIMEOUT_S)
            if error is None and code != 0:
                detail = stderr_tail(err.decode(errors="replace")) or stderr_tail(out.decode(errors="replace"))
                error = f"`{command}` exited with code {code}:\n{detail or '(no output)'}"
            results.append(StepResult(setup_id(index, major), "sh", "crashed" if error else "passed", exit_code=code,
                                      duration_s=time.monotonic() - t, reason=error or "", started_s=started_s))
            if error:
                break
        self._set_up = {rel: (self.workspace / rel).read_bytes() for rel in self.changed_files()}
        return tuple(results)

    async def _install(self, major: int) -> StepResult:
        started_s = time.monotonic() - self.t0
        t = time.monotonic()
        try:
            env = self._env({})
            if NPM_TOKEN_SECRET in self.secrets:  # the install is the one step that sees the registry token
                env["NPM_TOKEN"] = secret_refs.resolve(self.secrets[NPM_TOKEN_SECRET])
            cached, reused = await ensure_install(self.source, major, env, self._app_env)
        except InstallFailed as exc:
            return StepResult(install_id(major), "npm", "crashed", reason=str(exc), started_s=started_s)
        _, npm_version = await asyncio.gather(
            asyncio.to_thread(refresh, self.source, self.workspace, cached, cached.parent.name),
            asyncio.to_thread(_npm_version),
        )
        reason = f"reused the install at {cached.parent.name}" if reused else "installed with npm ci"
        return StepResult(
            install_id(major), "npm", "passed", tool_version=npm_version, exit_code=0,
            duration_s=time.monotonic() - t, reason=reason, started_s=started_s,
        )

    def _env(self, step_env: Mapping[str, str]) -> dict[str, str]:
        return {**os.environ, **STEP_ENV, **self._app_env, **step_env}

    async def run(self, step: Step) -> StepRun:
        reports = self.scratch / "reports" / step.id.replace("/", "-")
        shutil.rmtree(reports, ignore_errors=True)
        reports.mkdir(parents=True)
        argv = [substitute(a, str(reports), run_id=self.run_id) for a in step.argv]
        env = self._env({k: substitute(v, str(reports), run_id=self.run_id) for k, v in step.env.items()})
        if step.tool_install:  # the tool its image installs: from bayon's own environment or the project's tools first
            env["PATH"] = tool_path(env.get("PATH"))
        for var, name in step.secrets.items():
            if name in self.secrets:
                env[var] = secret_refs.resolve(self.secrets[name])
        cwd = (self._repo_dir() if step.in_repo else self.workspace / step.workdir).resolve()
        for cache in step.caches:  # relative paths; an absolute one names a place inside the step's container
            if not os.path.isabs(cache.path):
                digest = self._source_digest() if SOURCE_PLACEHOLDER in cache.key else ""
                link_cache(cache_key(cache, self.lock_hash, digest), cwd / cache.path)
        started_s = time.monotonic() - self.t0
        t = time.monotonic()
        async with contextlib.AsyncExitStack() as stack:
            for service in step.services:
                env[service.url_env] = await stack.enter_async_context(started(service))
            code, out, err, error = await run_captured(argv, str(cwd), env, step.timeout_s)
        return StepRun(
            exit_code=code,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
            files={name: _read(reports / name) for name in step.outputs},
            duration_s=time.monotonic() - t,
            root=str(cwd),
            tool_version=self._package_version(step.package),
            error=error,
            started_s=started_s,
        )

    def _source_digest(self) -> str:
        """The digest of the source as steps see it: its every path and content, and what the setup commands made."""
        if self._digest is None:
            self._digest = source_digest(self.source, self._set_up)
        return self._digest

    def _repo_dir(self) -> Path:
        """Where an `in_repo` step runs: `repo`/`repo_path` when a repository was given, else the source itself (git
        finds the checkout holding it). It runs in the checkout, not a scratch copy, so such steps only read."""
        return self.repo / self.repo_path.lstrip("/") if self.repo else self.source

    def _package_version(self, package: str | None) -> str | None:
        if not package:
            return None
        manifest = self.workspace / "node_modules" / package / "package.json"
        return json.loads(manifest.read_text()).get("version") if manifest.is_file() else None

    def changed_files(self) -> list[str]:
        """Files of the scratch copy that differ from (or are new to) the source: what a fixer step changed (a file
        as the setup commands left it is not a change)."""
        changed = []
        for directory, dirs, files in os.walk(self.workspace):
            base = Path(directory).relative_to(self.workspace)
            dirs[:] = [d for d in dirs if not ignored((base / d).as_posix())]
            for name in files:
                rel = (base / name).as_posix()
                original = self.source / rel
                if ignored(rel):
                    continue
                data = (self.workspace / rel).read_bytes()
                if (not original.is_file() or original.read_bytes() != data) and self._set_up.get(rel) != data:
                    changed.append(rel)
        return sorted(changed)

    def apply(self, paths: list[str]) -> None:
        """Copy fixed files from the scratch copy back into the source."""
        for rel in paths:
            shutil.copy2(self.workspace / rel, self.source / rel)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _npm_version() -> str | None:
    out = subprocess.run(["npm", "--version"], capture_output=True, text=True)
    return out.stdout.strip() or None
