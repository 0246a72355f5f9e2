"""Run steps as subprocesses on this host: for debugging without Docker, and for the project's own tests.

Each step runs on its Node major, as in Dagger: the host's `node` when it is that major, else that major brought in
from npm (`node_runtime`) first on PATH. Each major has its own scratch copy of the source with that major's cached
dependency install hardlinked in, so two majors running at once never share a `node_modules` or a tool's output. The
executor runs every step's argv there, enforces its timeout, and kills every child it started when the run ends or
is interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Collection, Mapping
from pathlib import Path

from ci.core import secret_refs
from ci.core.errors import CouldNotRun
from ci.core.executor import (
    NO_SETUP, NPM_TOKEN_SECRET, SOURCE_PLACEHOLDER, STEP_ENV, Setup, cache_key, check_repo_path, install_id,
    missing_secrets, setup_argv, setup_id, substitute,
)
from ci.core.report import StepResult
from ci.executors.local import node_runtime
from ci.executors.local.processes import run_captured
from ci.executors.local.services import started
from ci.executors.local.tools import chrome, tool_path
from ci.core.sources import glob_source, ignored
from ci.core.step import DEFAULT_TIMEOUT_S, AppService, Step, StepRun
from ci.core.text import stderr_tail
from ci.executors.local.workspace import (
    InstallFailed, cache_lock, claim_scratch, ensure_install, link_cache, lock_hash, refresh, source_digest,
)

PASSED_ENV = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TEMP", "TMP", "CI",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_CEILING_DIRECTORIES",
})
"""The host variables every local step, install and service gets by name: where programs and the home directory are,
the locale, temporary directories, proxies, CA certificates, and where git stops looking for a repository."""
PASSED_PREFIXES = ("LC_", "GITHUB_", "RUNNER_", "NPM_CONFIG_")
"""Host variables that pass by prefix (matched in any case: npm reads `npm_config_*` and `NPM_CONFIG_*`): the locale,
the Actions runner's context, npm's settings (its registry, ...). A credential among them never passes (`CREDENTIAL`)."""
CREDENTIAL = re.compile(r"TOKEN|AUTH|PASSW|SECRET|KEY|OTP|CREDENTIAL", re.IGNORECASE)
"""What marks a prefixed variable as a credential: GITHUB_TOKEN, npm_config__authToken, npm_config_//host/:_auth..."""


def minimal_env(environ: Mapping[str, str], secret_vars: Collection[str] = ()) -> dict[str, str]:
    """The host variables a step may see: those `PASSED_ENV` names, or `PASSED_PREFIXES` start, but no credential and
    none that holds a secret given as `env://NAME` (`secret_vars`); a step gets its own secrets on top, by name."""
    return {name: value for name, value in environ.items()
            if name not in secret_vars
            and (name in PASSED_ENV
                 or (name.upper().startswith(PASSED_PREFIXES) and not CREDENTIAL.search(name)))}


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
        self._secret_vars = {ref.removeprefix("env://") for ref in self.secrets.values() if ref.startswith("env://")}
        self._given: dict[str, str] = {}
        self.run_id = uuid.uuid4().hex
        self.repo = Path(repo).resolve() if repo else None
        self.repo_path = repo_path
        self.node = host_node_major()
        self.lock_hash = lock_hash(self.source)
        self.scratch, self._scratch_lock = claim_scratch(self.source)
        self.t0 = time.monotonic()
        self._installs: dict[int, asyncio.Task[StepResult]] = {}
        self._node_bins: dict[int, Path] = {}
        """Major → the `bin` of the Node brought in for it (none for the host's own major)."""
        self._setups: dict[int, asyncio.Task[tuple[StepResult, ...]]] = {}
        self._app_env: dict[str, str] = {}
        self._set_up: dict[int, dict[str, bytes]] = {}
        """Major → what the setup commands changed in its copy (path → content): generated files are no fixer's
        changes."""
        self._digests: dict[int, str] = {}

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

    def workspace(self, node_major: int) -> Path:
        """The scratch copy a major's steps run in, with that major's install."""
        return self.scratch / f"node{node_major}" / "src"

    async def read_source_file(self, path: str) -> str | None:
        file = self.source / path
        return file.read_text() if file.is_file() else None

    async def source_paths(self, patterns: Collection[str]) -> list[str]:
        regexes = [re.compile(glob_source(pattern) + r"\Z") for pattern in patterns]
        found = []
        for directory, dirs, files in os.walk(self.source):
            base = Path(directory).relative_to(self.source)
            dirs[:] = [d for d in dirs if not ignored((base / d).as_posix())]
            found += [rel for rel in ((base / name).as_posix() for name in files)
                      if not ignored(rel) and any(regex.match(rel) for regex in regexes)]
        return sorted(found)

    def unavailable_reason(self, step: Step) -> str | None:
        if self.node is None:
            raise CouldNotRun("node is not installed; install Node.js 20+ (`bayon doctor` prints the command)")
        return missing_secrets(step, self.secrets)

    async def install(self, node_major: int, setup: Setup = NO_SETUP) -> StepResult:
        """Bring in that Node major if the host lacks it, then install the app's dependencies with it (once each),
        with the app's install env (which every later command and step gets too)."""
        if node_major not in self._installs:
            self._app_env = dict(setup.env)
            self._installs[node_major] = asyncio.ensure_future(self._install(node_major))
        return await asyncio.shield(self._installs[node_major])

    async def run_setup(self, node_major: int, setup: Setup) -> tuple[StepResult, ...]:
        """Run the setup commands once per major in its scratch copy, after the install: every step of that major
        runs in that copy, so each sees what they did."""
        if node_major not in self._setups:
            self._setups[node_major] = asyncio.ensure_future(self._run_setup(node_major, setup))
        return await asyncio.shield(self._setups[node_major])

    async def _run_setup(self, major: int, setup: Setup) -> tuple[StepResult, ...]:
        results = []
        workspace = self.workspace(major)
        for index, command in enumerate(setup.commands):
            started_s, t = time.monotonic() - self.t0, time.monotonic()
            code, out, err, error = await run_captured(list(setup_argv(command)), str(workspace),
                                                       self._env({}, major), DEFAULT_TIMEOUT_S)
            if error is None and code != 0:
                detail = stderr_tail(err.decode(errors="replace")) or stderr_tail(out.decode(errors="replace"))
                error = f"`{command}` exited with code {code}:\n{detail or '(no output)'}"
            results.append(StepResult(setup_id(index, major), "sh", "crashed" if error else "passed", exit_code=code,
                                      duration_s=time.monotonic() - t, reason=error or "", started_s=started_s))
            if error:
                break
        self._set_up[major] = {}  # what the commands made is compared against the source, not against itself
        self._set_up[major] = {rel: (workspace / rel).read_bytes() for rel in self._changed(major)}
        return tuple(results)

    async def _install(self, major: int) -> StepResult:
        started_s = time.monotonic() - self.t0
        t = time.monotonic()
        if major != self.node:
            try:
                self._node_bins[major] = await node_runtime.ensure(major, self._env({}))
            except node_runtime.NodeUnavailable as exc:
                reason = (f"Node {major} is not on this host (it has Node {self.node}) and could not be brought in "
                          f"from npm: {exc}\nset tests.node_versions (and node) in pipeline.yaml to majors this host "
                          "can run, or run the matrix with `dagger call`")
                return StepResult(install_id(major), "npm", "crashed", reason=reason, started_s=started_s)
        try:
            env = self._env({}, major)
            if NPM_TOKEN_SECRET in self.secrets:  # the install is the one step that sees the registry token
                env["NPM_TOKEN"] = secret_refs.resolve(self.secrets[NPM_TOKEN_SECRET])
            cached, reused = await ensure_install(self.source, major, env, self._app_env)
        except InstallFailed as exc:
            return StepResult(install_id(major), "npm", "crashed", exit_code=exc.exit_code, reason=str(exc),
                              duration_s=time.monotonic() - t, started_s=started_s)
        _, npm_version = await asyncio.gather(
            asyncio.to_thread(refresh, self.source, self.workspace(major), cached, cached.parent.name),
            asyncio.to_thread(_npm_version),
        )
        reason = f"reused the install at {cached.parent.name}" if reused else "installed with npm ci"
        if major in self._node_bins:
            reason += f", on Node {major} from npm ({node_runtime.package()})"
        return StepResult(
            install_id(major), "npm", "passed", tool_version=npm_version, exit_code=0,
            duration_s=time.monotonic() - t, reason=reason, started_s=started_s,
        )

    def _env(self, step_env: Mapping[str, str], node_major: int | None = None) -> dict[str, str]:
        """The minimal host environment, then `STEP_ENV`, the app's install env and the step's own (its secrets are
        the caller's to add), for a step (or install) on `node_major`: its Node first on PATH when it was brought in."""
        env = {**minimal_env(os.environ, self._secret_vars), **STEP_ENV, **self._app_env, **step_env}
        if node_major in self._node_bins:
            env["PATH"] = os.pathsep.join(filter(None, (str(self._node_bins[node_major]), env.get("PATH"))))
        return env

    async def output_files(self, step: Step, path: str) -> dict[str, bytes]:
        root = self.workspace(step.node_major) / step.workdir / path
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    def give_secrets(self, values: Mapping[str, str]) -> None:
        """Values kept in memory only, given by name to the steps that need them (before references passed in)."""
        self._given.update(values)

    async def run(self, step: Step) -> StepRun:
        reports = self.scratch / "reports" / step.id.replace("/", "-")
        shutil.rmtree(reports, ignore_errors=True)
        reports.mkdir(parents=True)
        argv = [substitute(a, str(reports), run_id=self.run_id) for a in step.argv]
        env = self._env({k: substitute(v, str(reports), run_id=self.run_id) for k, v in step.env.items()},
                        step.node_major if step.needs_install else None)
        if step.tool_install:  # the tool its image installs: from bayon's own environment or the project's tools first
            env["PATH"] = tool_path(env.get("PATH"))
        for var, name in step.secrets.items():
            if name in self._given:
                env[var] = self._given[name]
            elif name in self.secrets:
                env[var] = secret_refs.resolve(self.secrets[name])
        if step.needs_chrome:
            try:
                env["CHROME_PATH"] = chrome(os.environ)
            except ValueError as exc:
                raise CouldNotRun(str(exc)) from None
        cwd = (self._repo_dir() if step.in_repo else self.source / step.workdir if not step.needs_install
               else self.workspace(step.node_major) / step.workdir).resolve()
        async with contextlib.AsyncExitStack() as stack:
            keys = {}
            for cache in step.caches:  # relative paths; an absolute one names a place inside the step's container
                if not os.path.isabs(cache.path):
                    digest = self._source_digest(step.node_major) if SOURCE_PLACEHOLDER in cache.key else ""
                    keys[cache_key(cache, self.lock_hash, digest)] = cache
            for key in sorted(k for k, cache in keys.items() if cache.sharing != "shared"):  # one order: no deadlock
                await stack.enter_async_context(cache_lock(key))
            for key, cache in keys.items():
                link_cache(key, cwd / cache.path)
            started_s = time.monotonic() - self.t0
            t = time.monotonic()
            running = []
            for service in step.services:
                if isinstance(service, AppService):
                    failed = await self._build_app(service, step.node_major)
                    if failed:
                        return StepRun(exit_code=None, error=failed, root=str(cwd), started_s=started_s,
                                       duration_s=time.monotonic() - t)
                    serving = started(service, self._env({}, step.node_major), cwd=self.workspace(step.node_major))
                else:
                    serving = started(service, self._env({}))
                running.append(await stack.enter_async_context(serving))
                env[service.url_env] = running[-1].url
            code, out, err, error = await run_captured(argv, str(cwd), env, step.timeout_s)
            ran = [await service.described() for service in running]
        return StepRun(
            exit_code=code,
            stdout=out.decode(errors="replace"),
            stderr=err.decode(errors="replace"),
            files={name: _read(reports / name) for name in step.outputs},
            duration_s=time.monotonic() - t,
            root=str(cwd),
            tool_version=self._package_version(step),
            error=error,
            started_s=started_s,
            services=tuple(ran),
        )

    async def _build_app(self, service: AppService, major: int) -> str | None:
        """Build the app an `AppService` serves, in the major's workspace (on its install and setup commands); why
        it failed, or None."""
        command = " ".join(service.build_argv)
        code, out, err, error = await run_captured(list(service.build_argv), str(self.workspace(major)),
                                                   self._env({}, major), DEFAULT_TIMEOUT_S)
        if error is None and code != 0:
            detail = stderr_tail(err.decode(errors="replace")) or stderr_tail(out.decode(errors="replace"))
            error = f"`{command}` exited with code {code}:\n{detail or '(no output)'}"
        return f"the app's build for {service.name} failed: {error}" if error else None

    def _source_digest(self, major: int) -> str:
        """The digest of the source as a major's steps see it: its every path and content, and what the setup
        commands made."""
        if major not in self._digests:
            self._digests[major] = source_digest(self.source, self._set_up.get(major, {}))
        return self._digests[major]

    def _repo_dir(self) -> Path:
        """Where an `in_repo` step runs: `repo`/`repo_path` when a repository was given (checked to hold the source's
        package.json, as in Dagger), else the source itself (git finds the checkout holding it). It runs in the
        checkout, not a scratch copy, so such steps only read."""
        if not self.repo:
            return self.source
        place = self.repo / self.repo_path.strip("/")
        check_repo_path(self.repo_path, _read(place / "package.json"), _read(self.source / "package.json"))
        return place

    def _package_version(self, step: Step) -> str | None:
        if not step.package:
            return None
        manifest = self.workspace(step.node_major) / "node_modules" / step.package / "package.json"
        return json.loads(manifest.read_text()).get("version") if manifest.is_file() else None

    def changed_files(self, step: Step) -> list[str]:
        """Files of the step's scratch copy that differ from (or are new to) the source: what a fixer step changed (a
        file as the setup commands left it is not a change)."""
        return self._changed(step.node_major)

    def _changed(self, major: int) -> list[str]:
        workspace, set_up = self.workspace(major), self._set_up.get(major, {})
        changed = []
        for directory, dirs, files in os.walk(workspace):
            base = Path(directory).relative_to(workspace)
            dirs[:] = [d for d in dirs if not ignored((base / d).as_posix())]
            for name in files:
                rel = (base / name).as_posix()
                original = self.source / rel
                if ignored(rel):
                    continue
                data = (workspace / rel).read_bytes()
                if (not original.is_file() or original.read_bytes() != data) and set_up.get(rel) != data:
                    changed.append(rel)
        return sorted(changed)

    def apply(self, step: Step, paths: list[str]) -> None:
        """Copy fixed files from the step's scratch copy back into the source."""
        for rel in paths:
            shutil.copy2(self.workspace(step.node_major) / rel, self.source / rel)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _npm_version() -> str | None:
    out = subprocess.run(["npm", "--version"], capture_output=True, text=True)
    return out.stdout.strip() or None
