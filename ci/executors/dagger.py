"""Run steps as Dagger containers: one install layer per Node major, then one container per step on top of it.

The builders (`install_container`, `step_container`, `changeset`) are synchronous and engine-free, so the plan tests
inspect the exact selection chains whose layers the engine caches; the async methods only await leaves of them.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import anyio
import dagger
from dagger import dag

from ci.core.errors import one_line
from ci.core.executor import (
    INSTALL_ARGV, NO_SETUP, NPM_TOKEN_SECRET, SOURCE_PLACEHOLDER, STEP_ENV, Setup, cache_key, check_repo_path, install_id,
    missing_secrets, setup_argv, setup_id, substitute, tool_script,
)
from ci.core.text import npm_failed, stderr_tail
from ci.core.report import Report, StepResult
from ci.core.sources import LOCK_INPUTS, SOURCE_IGNORE, ignored, lock_digest
from ci.core.step import NPM_MAJOR, AppService, Step, StepRun, node_image

SOURCE_ROOT = "/src"
REPO_ROOT = "/repo"
REPORTS_ROOT = "/bayon/reports"
TOOLS_ROOT = "/bayon/tools"
NPM_CACHE_PATH = "/bayon/npm-cache"
SOURCE_EXCLUDES = list(SOURCE_IGNORE)
INSTALL_ENV = {**STEP_ENV, "NPM_CONFIG_CACHE": NPM_CACHE_PATH}
NPMRC = ".npmrc"
MISSING_LOCKFILE = "package-lock.json is missing; run `npm install` and commit package-lock.json"


SHARING = {"shared": dagger.CacheSharingMode.SHARED, "locked": dagger.CacheSharingMode.LOCKED}
"""`Cache.sharing` as the engine's sharing mode."""


def npm_cache_key(node_major: int) -> str:
    """npm's cache volume, by Node major only: the cache is content-addressed, so every lockfile shares its hits."""
    return f"bayon-npm-node{node_major}"


def reports_dir(step: Step) -> str:
    """Where a step writes its reports: outside the source, so reports never show up in a fixer's changes."""
    return f"{REPORTS_ROOT}/{step.id.replace('/', '-')}"


def step_workdir(step: Step, repo_path: str = "") -> str:
    """Where a step runs: in the source, or for an `in_repo` step in the repository at the app's place."""
    root = posixpath.join(REPO_ROOT, repo_path.lstrip("/")) if step.in_repo else SOURCE_ROOT
    return posixpath.normpath(posixpath.join(root, step.workdir))


class MissingLockfileError(Exception):
    """The source has no package-lock.json, so the install cannot be reproducible."""


class DaggerExecutor:
    """Runs steps in containers. `secrets` maps a secret name ("npm-token") to its Secret; unknown names stay unset."""

    name = "dagger"

    def __init__(self, source: dagger.Directory, secrets: Mapping[str, dagger.Secret] | None = None,
                 repo: dagger.Directory | None = None, repo_path: str = "") -> None:
        self.source = source
        self.secrets = dict(secrets or {})
        self.run_id = uuid.uuid4().hex
        self.repo = repo
        self.repo_path = repo_path
        self._created = time.monotonic()
        self._lock_inputs: tuple[str, bool] | None = None
        self._installs: dict[int, tuple[StepResult, dagger.Container | None]] = {}
        """Node major → its install's result and the container steps start from (after the setup commands, once run)."""
        self._setups: dict[int, tuple[StepResult, ...]] = {}
        self._ran: dict[str, tuple[Step, dagger.Container]] = {}
        """Step id → the step and the container `run` executed: what a fixer's changes, an output's directory and the
        reports' tool files are read from, so the engine runs each exec once."""
        self._install_locks: dict[int, anyio.Lock] = {}
        self._texts: dict[str, str | None] = {}
        self._repo_lock, self._repo_checked = anyio.Lock(), False

    def install_container(self, node_major: int, *, npmrc: bool = False,
                          env: Mapping[str, str] | None = None) -> dagger.Container:
        """Image, pinned npm, `npm ci` from package.json + lockfile (+ .npmrc) only with the app's install `env`
        (inherited by everything built on it), and then the source on top."""
        ctr = dag.container().from_(node_image(node_major))
        for name, value in INSTALL_ENV.items():
            ctr = ctr.with_env_variable(name, value)
        ctr = (
            ctr.with_exec(["npm", "install", "-g", f"npm@{NPM_MAJOR}"])
            .with_mounted_cache(NPM_CACHE_PATH, dag.cache_volume(npm_cache_key(node_major)))
            .with_workdir(SOURCE_ROOT)
        )
        for name in LOCK_INPUTS if npmrc else LOCK_INPUTS[:2]:
            ctr = ctr.with_file(f"{SOURCE_ROOT}/{name}", self.source.file(name))
        for name, value in sorted((env or {}).items()):
            ctr = ctr.with_env_variable(name, value)
        token = self.secrets.get(NPM_TOKEN_SECRET)
        if token is not None:
            ctr = ctr.with_secret_variable("NPM_TOKEN", token)
        ctr = ctr.with_exec(list(INSTALL_ARGV))
        if token is not None:
            ctr = ctr.without_secret_variable("NPM_TOKEN")
        return ctr.with_directory(SOURCE_ROOT, self.source, exclude=SOURCE_EXCLUDES)

    @staticmethod
    def setup_layers(installed: dagger.Container, setup: Setup) -> list[dagger.Container]:
        """The container after each setup command, in order: one exec each on the installed source (the commands may
        read it, so they come after it), in the app directory; the last one is what steps start from."""
        layers, ctr = [], installed
        for command in setup.commands:
            ctr = ctr.with_workdir(SOURCE_ROOT).with_exec(list(setup_argv(command)))
            layers.append(ctr)
        return layers

    def prepared(self, node_major: int, *, npmrc: bool = False,
                 setup: Setup = NO_SETUP) -> dagger.Container:
        """The install layer with the setup commands on it: what a step of that major starts from."""
        installed = self.install_container(node_major, npmrc=npmrc, env=setup.env)
        return [installed, *self.setup_layers(installed, setup)][-1]

    @staticmethod
    def app_service(installed: dagger.Container, svc: AppService) -> dagger.Service:
        """The app's production build as a service: on its install container (`installed`, setup commands run), the
        service's helper scripts, the build's exec in the app directory, then the port exposed and `argv` served on
        all interfaces."""
        ctr = installed
        for name in svc.tools:
            ctr = ctr.with_new_file(f"{TOOLS_ROOT}/{name}", tool_script(name))
        args = [substitute(a, "", TOOLS_ROOT).replace("{port}", str(svc.port)).replace("{host}", "0.0.0.0")
                for a in svc.argv]
        return (ctr.with_workdir(SOURCE_ROOT).with_exec(list(svc.build_argv))
                .with_exposed_port(svc.port)
                .as_service(args=args, use_entrypoint=True))

    def step_container(self, base: dagger.Container, step: Step, lock_hash: str = "",
                       app: dagger.Container | None = None) -> dagger.Container:
        """The step's env, secrets, caches (relative paths resolve against its workdir; `{lock}` in a key is
        `lock_hash`; one keyed by `{source}` is left out, see SOURCE_PLACEHOLDER), helper scripts and services (an
        `AppService` built on `app`, the step's install container), then its exec."""
        reports, workdir = reports_dir(step), step_workdir(step, self.repo_path)
        ctr = base
        for name, value in sorted(step.env.items()):
            ctr = ctr.with_env_variable(name, substitute(value, reports, TOOLS_ROOT, self.run_id))
        for name, secret_name in sorted(step.secrets.items()):
            if secret_name in self.secrets:
                ctr = ctr.with_secret_variable(name, self.secrets[secret_name])
        for cache in (c for c in step.caches if SOURCE_PLACEHOLDER not in c.key):
            volume = dag.cache_volume(cache_key(cache, lock_hash))
            ctr = ctr.with_mounted_cache(posixpath.join(workdir, cache.path), volume, sharing=SHARING[cache.sharing])
        for name in step.tools:
            ctr = ctr.with_new_file(f"{TOOLS_ROOT}/{name}", tool_script(name))
        for svc in step.services:
            if isinstance(svc, AppService):
                if app is None:
                    raise ValueError(f"{step.id} serves the app: its install container must be given")
                service = self.app_service(app, svc)
            else:
                service = (
                    dag.container()
                    .from_(svc.image)
                    .with_exposed_port(svc.port)
                    .as_service(args=list(svc.args), use_entrypoint=True)
                )
            ctr = ctr.with_service_binding(svc.name, service)
            ctr = ctr.with_env_variable(svc.url_env, f"http://{svc.name}:{svc.port}")
        return (
            ctr.with_directory(reports, dag.directory())
            .with_workdir(workdir)
            .with_exec([substitute(arg, reports, TOOLS_ROOT, self.run_id) for arg in step.argv],
                       expect=dagger.ReturnType.ANY)
        )

    @staticmethod
    def report_directory(files: Mapping[str, bytes],
                         step_reports: Mapping[str, dagger.Directory] | None = None) -> dagger.Directory:
        """What `reports` returns for export: the runner's report files, and each step's report directory (its tool
        files, straight from the container that wrote them) under the step's id."""
        directory = dag.directory()
        for path, data in sorted(files.items()):
            directory = directory.with_new_file(path, data.decode("utf-8", errors="replace"))
        for step_id, reports in sorted((step_reports or {}).items()):
            directory = directory.with_directory(step_id, reports)
        return directory

    def step_reports(self, report: Report) -> dict[str, dagger.Directory]:
        """The report directory of every step that ran and wrote a declared report file of `report`."""
        return {step_id: ctr.directory(reports_dir(step)) for step_id, (step, ctr) in self._ran.items()
                if any(f"{step_id}/{name}" in report.artifacts for name in step.outputs)}

    def changeset_of(self, ctr: dagger.Container, step: Step, repo_path: str = "",
                     before: dagger.Directory | None = None) -> dagger.Changeset:
        """What a fixer step changed in the source (ignored paths on neither side), lazy and exportable; rooted at
        `repo_path` (where the source sits in the repository) when given, so `export --path .` at the repository
        root writes into the app. `before` is the source the step started from when setup commands changed it (what
        they generated is no fix); by default the source as given."""
        if not step.writes_source:
            raise ValueError(f"{step.id} does not write the source; only fixer steps have changes")
        fixed = ctr.directory(SOURCE_ROOT).filter(exclude=SOURCE_EXCLUDES)
        before = (before or self.source).filter(exclude=SOURCE_EXCLUDES)
        root = posixpath.normpath(repo_path.strip("/")) if repo_path.strip("/") else ""
        if root:
            fixed, before = (dag.directory().with_directory(root, d) for d in (fixed, before))
        return fixed.changes(before)

    def changeset(self, step: Step, lock_hash: str, *, npmrc: bool = False, repo_path: str = "",
                  setup: Setup = NO_SETUP) -> dagger.Changeset:
        """`changeset_of` the step's container built from scratch on its install layer (the chain `run` executes)."""
        base = self.prepared(step.node_major, npmrc=npmrc, setup=setup)
        before = base.directory(SOURCE_ROOT) if setup.commands else None
        return self.changeset_of(self.step_container(base, step, lock_hash), step, repo_path, before)

    async def changes(self, step: Step, repo_path: str = "") -> dagger.Changeset:
        """The changes of a fixer step that `run` executed (against the source as its setup commands left it)."""
        base = self._installs[step.node_major][1]
        before = base.directory(SOURCE_ROOT) if self._setups.get(step.node_major) and base is not None else None
        return self.changeset_of(self._ran[step.id][1], step, repo_path, before)

    def installed_step(self, step: Step, lock_hash: str, *, npmrc: bool = False,
                       setup: Setup = NO_SETUP) -> dagger.Container:
        """The step's container on its own install layer and setup commands (the chain `run` executes, built from
        scratch)."""
        return self.step_container(self.prepared(step.node_major, npmrc=npmrc, setup=setup), step, lock_hash)

    @staticmethod
    def output_directory(ctr: dagger.Container, step: Step, path: str) -> dagger.Directory:
        """A directory the step writes, relative to its workdir (e.g. the build's `out`), lazy and exportable."""
        return ctr.directory(posixpath.join(step_workdir(step), path))

    def output_of(self, step: Step, path: str) -> dagger.Directory:
        """`output_directory` of a step that `run` executed."""
        return self.output_directory(self._ran[step.id][1], step, path)

    async def output_files(self, step: Step, path: str) -> dict[str, bytes]:
        """The directory exported into the module runtime's own filesystem and read back as bytes (`contents()` is
        text only: a zip's images and fonts would not survive it)."""
        with tempfile.TemporaryDirectory(prefix="bayon-output-") as scratch:
            try:
                await self.output_of(step, path).export(scratch)
            except dagger.QueryError:
                return {}
            root = Path(scratch)
            return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    async def read_source_file(self, path: str) -> str | None:
        """None when the file does not exist; without an engine this raises dagger.ClientConnectionError, because
        answering None would claim the file is absent (e.g. silently using default config)."""
        if path not in self._texts:  # the source never changes: each file is read once
            try:
                self._texts[path] = await self.source.file(path).contents()
            except dagger.QueryError:
                self._texts[path] = None
        return self._texts[path]

    async def source_paths(self, patterns: Collection[str]) -> list[str]:
        """The engine's glob of the source (the `Ignore` of the source argument left installs out already; the
        ignore list is applied again for a source built some other way)."""
        found = {path for pattern in patterns for path in await self.source.glob(pattern)}
        return sorted(path for path in found if not ignored(path))

    def unavailable_reason(self, step: Step) -> str | None:
        return missing_secrets(step, self.secrets)  # every Node major runs in its own image

    def give_secrets(self, values: Mapping[str, str]) -> None:
        """Each value as a Secret of the engine (named per run), in place of one passed in under that name."""
        for name, value in values.items():
            self.secrets[name] = dag.set_secret(f"bayon-{name}-{self.run_id}", value)

    async def install(self, node_major: int, setup: Setup = NO_SETUP) -> StepResult:
        """Run the install layer for a Node major once per executor; later calls return the first result."""
        async with self._install_locks.setdefault(node_major, anyio.Lock()):
            if node_major not in self._installs:
                self._installs[node_major] = await self._install(node_major, setup)
        return self._installs[node_major][0]

    async def run_setup(self, node_major: int, setup: Setup) -> tuple[StepResult, ...]:
        """Run the setup command layers on the installed source once per major, each awaited in turn so a failure
        names its command; the container after the last is the base of that major's steps."""
        async with self._install_locks.setdefault(node_major, anyio.Lock()):
            if node_major not in self._setups:
                installed, base = self._installs[node_major]
                results: list[StepResult] = []
                for index, layer in enumerate(self.setup_layers(base, setup) if base is not None else []):
                    started = time.monotonic()
                    exit_code, reason = await _synced(layer)
                    results.append(StepResult(setup_id(index, node_major), "sh",
                                              "passed" if exit_code == 0 else "crashed", exit_code=exit_code,
                                              reason=reason, duration_s=time.monotonic() - started,
                                              started_s=started - self._created))
                    if exit_code != 0:
                        break
                    self._installs[node_major] = (installed, layer)
                self._setups[node_major] = tuple(results)
        return self._setups[node_major]

    async def _install(self, node_major: int, setup: Setup) -> tuple[StepResult, dagger.Container | None]:
        started = time.monotonic()
        ctr, exit_code, reason = None, None, ""
        try:
            _, npmrc = await self._read_lock_inputs()
            ctr = self.install_container(node_major, npmrc=npmrc, env=setup.env)
            exit_code, reason = await _synced(ctr, _npm_reason)  # the npm pin or `npm ci`: npm's own error lines
        except MissingLockfileError as exc:
            reason = str(exc)
        except dagger.DaggerError as exc:  # reading the lock inputs (no engine, ...)
            reason = one_line(exc)
        ctr = ctr if exit_code == 0 else None
        status = "passed" if ctr is not None else "crashed"
        result = StepResult(install_id(node_major), "npm", status, exit_code=exit_code, reason=reason,
                            duration_s=time.monotonic() - started, started_s=started - self._created)
        return result, ctr

    async def _read_lock_inputs(self) -> tuple[str, bool]:
        """sha256(package.json + package-lock.json) and whether .npmrc exists, read once."""
        if self._lock_inputs is None:
            texts = {name: await self.read_source_file(name) for name in LOCK_INPUTS}
            if texts["package-lock.json"] is None:
                raise MissingLockfileError(MISSING_LOCKFILE)
            digest = lock_digest({name: text.encode() for name, text in texts.items() if text is not None})
            self._lock_inputs = (digest, texts[NPMRC] is not None)
        return self._lock_inputs

    async def _check_repo_path(self) -> None:
        """Once, before any `in_repo` step: the repository at `repo_path` holds the source's package.json (the
        source's is read already, for the config: one more await), else UsageError naming --repo-path."""
        async with self._repo_lock:
            if not self._repo_checked:
                source = await self.read_source_file("package.json")
                manifest = self.repo.file(posixpath.join(self.repo_path.strip("/"), "package.json"))
                in_repo = await _bytes_or_none(manifest)
                check_repo_path(self.repo_path, in_repo, source.encode() if source is not None else None)
                self._repo_checked = True

    @staticmethod
    def tool_layers(step: Step) -> dagger.Container:
        """A tool step's image and its `tool_install` layers (cached before any input is mounted)."""
        ctr = dag.container().from_(step.image)
        for command in step.tool_install:
            ctr = ctr.with_exec(list(command))
        return ctr

    def repo_base(self, step: Step) -> dagger.Container:
        """An `in_repo` step's image, its `tool_install` layers, then the repository (its `.git` included) mounted: no
        dependency install, no source."""
        return self.tool_layers(step).with_directory(REPO_ROOT, self.repo)

    def tool_base(self, step: Step) -> dagger.Container:
        """A step with a tool image of its own (not `in_repo`): the image, its `tool_install` layers, then the source
        mounted: no dependency install."""
        return self.tool_layers(step).with_directory(SOURCE_ROOT, self.source, exclude=SOURCE_EXCLUDES)

    async def run(self, step: Step) -> StepRun:
        """Run the step on the installed base (an `in_repo` step on the repository instead); a tool or engine
        failure is reported in the StepRun, never raised."""
        workdir = step_workdir(step, self.repo_path)
        if step.in_repo and self.repo is None:
            return StepRun(exit_code=None, root=workdir, error=f"{step.id} needs the repository: this function has none")
        if step.in_repo:
            try:
                await self._check_repo_path()
            except dagger.DaggerError as exc:
                return StepRun(exit_code=None, root=workdir, error=one_line(exc))
            base = self.repo_base(step)
        elif not step.needs_install:
            base = self.tool_base(step)
        else:
            install = await self.install(step.node_major)
            base = self._installs[step.node_major][1]
            if base is None:
                return StepRun(exit_code=None, root=workdir, error=f"{install.id} {install.status}: {install.reason}")
        app = None
        if step.app_services:  # the scheduler ran the install and setup commands: their container is the app's
            install = await self.install(step.node_major)
            app = self._installs[step.node_major][1]
            if app is None:
                return StepRun(exit_code=None, root=workdir, error=f"{install.id} {install.status}: {install.reason}")
        lock_hash = self._lock_inputs[0] if self._lock_inputs else ""  # read by the install that made `base`
        ctr, reports = self.step_container(base, step, lock_hash, app), reports_dir(step)
        self._ran[step.id] = (step, ctr)
        started = time.monotonic()

        def outcome(**fields) -> StepRun:
            timing = {"duration_s": time.monotonic() - started, "started_s": started - self._created}
            return StepRun(root=workdir, **timing, **fields)

        try:
            with anyio.fail_after(step.timeout_s):
                exit_code = await ctr.exit_code()
                stdout, stderr = await ctr.stdout(), await ctr.stderr()
                files = {out: await _bytes_or_none(ctr.file(f"{reports}/{out}")) for out in step.outputs}
                version = await _package_version(base, step.package)
        except TimeoutError:
            return outcome(exit_code=None, error=f"timed out after {step.timeout_s} s")
        except dagger.ExecError as exc:
            return outcome(exit_code=None, stdout=exc.stdout, stderr=exc.stderr, error=one_line(exc))
        except dagger.DaggerError as exc:
            return outcome(exit_code=None, error=one_line(exc))
        return outcome(exit_code=exit_code, stdout=stdout, stderr=stderr, files=files, tool_version=version,
                       services=tuple({"name": svc.name, "image": svc.image} for svc in step.services))


def _exec_reason(exc: dagger.ExecError) -> str:
    """A failed exec's reason: its command, exit code and last output lines."""
    detail = stderr_tail(exc.stderr) or stderr_tail(exc.stdout) or "(no output)"
    return f"`{' '.join(exc.command)}` exited with code {exc.exit_code}:\n{detail}"


def _npm_reason(exc: dagger.ExecError) -> str:
    """A failed npm exec's reason: npm's own error lines (`ci.core.text.npm_failed`)."""
    return npm_failed(exc.command, exc.exit_code, f"{exc.stdout}\n{exc.stderr}")


async def _synced(ctr: dagger.Container,
                  reason_of: Callable[[dagger.ExecError], str] = _exec_reason) -> tuple[int | None, str]:
    """Run a container's execs: (0, "") or the failing exec's exit code and `reason_of` it."""
    try:
        await ctr.sync()
        return 0, ""
    except dagger.ExecError as exc:
        return exc.exit_code, reason_of(exc)
    except dagger.DaggerError as exc:
        return None, one_line(exc)


async def _bytes_or_none(file: dagger.File) -> bytes | None:
    try:
        return (await file.contents()).encode()
    except dagger.QueryError:
        return None


async def _package_version(ctr: dagger.Container, package: str | None) -> str | None:
    """The installed version of an npm package (the tool version), or None."""
    if package is None:
        return None
    try:
        text = await ctr.file(f"{SOURCE_ROOT}/node_modules/{package}/package.json").contents()
        return json.loads(text).get("version")
    except (dagger.QueryError, ValueError):
        return None
