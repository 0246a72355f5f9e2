"""What a step is: what runs (image, argv, env, caches, services, files it produces) and how it is judged.

Steps are plain data, so both executors run the same definitions and `bayon plan` can print them. The judge is a
pure function from the tool's raw outcome (`StepRun`) to a `Judgement`; it never does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from ci.core.report import Finding, Status, Table

NODE_IMAGE = "node:{major}-bookworm-slim"
NPM_MAJOR = 11
DEFAULT_NODE_MAJOR = 22
DEFAULT_TIMEOUT_S = 600


def node_image(major: int) -> str:
    """The container image for a Node major (npm's major is pinned on top of it by the Dagger executor)."""
    return NODE_IMAGE.format(major=major)


PYTHON_IMAGE = "python:3.11-slim-bookworm"
"""The image of steps whose tool is a Python package (detect-secrets, Semgrep), installed by `python_tool`."""


def python_tool(*pins: str) -> tuple[tuple[str, ...], ...]:
    """`tool_install` for `PYTHON_IMAGE`: git (the tools read history), then the exactly pinned packages (none: a
    script of the standard library's, git only)."""
    pip = ("pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--root-user-action=ignore", *pins)
    return (("apt-get", "update", "-qq"),
            ("apt-get", "install", "-y", "-qq", "--no-install-recommends", "git"), *((pip,) if pins else ()))


CacheSharing = Literal["shared", "locked"]
"""How steps running at once share a cache volume in Dagger: `shared` (any number of writers: a content-addressed
cache such as npm's) or `locked` (one step at a time: a tool that rewrites its cache files, ESLint, Prettier, tsc,
Next). The local executor runs each cache's one step per run, so it has no use for it."""


@dataclass(frozen=True)
class Cache:
    """A cache volume: `key` names it in the engine (and locally a directory), `path` is where it is mounted,
    `sharing` how concurrent steps share it."""

    key: str
    path: str
    sharing: CacheSharing = "shared"


TOOL_CACHE_DIR = ".bayon/cache"
"""Where tools keep their own caches inside the source copy (ignored as source, never part of a fixer's changes)."""


def tool_cache(tool: str, node_major: int, *, per_source: bool = False) -> Cache:
    """A tool's cache volume (ESLint, Prettier, tsc --incremental), keyed by the dependencies and the Node major;
    `per_source` also keys it by the source's exact content (`{source}`), for a tool whose cached result for a file
    depends on other files, which its own cache does not track (ESLint's import and type-aware rules); locked, since
    the tool rewrites its cache files."""
    source = "{source}-" if per_source else ""
    return Cache(key=f"bayon-{tool}-{{lock}}-{source}node{node_major}", path=f"{TOOL_CACHE_DIR}/{tool}",
                 sharing="locked")


@dataclass(frozen=True)
class Service:
    """A network service the step talks to (e.g. an AWS emulator).

    In Dagger: a container from `image` running `args`, bound under `name`, port `port`. Locally: `local_argv` with
    `{port}` replaced by a free 127.0.0.1 port. Either way the step sees its URL in the env var `url_env`.
    """

    name: str
    image: str
    port: int
    args: tuple[str, ...]
    local_argv: tuple[str, ...]
    url_env: str
    ready_path: str = "/"

    def plan(self) -> dict[str, Any]:
        return {"name": self.name, "image": self.image, "port": self.port, "url_env": self.url_env}


APP_IMAGE = "(the app's install)"
"""What `plan` shows as the image of an `AppService`: the app's own dependency install, not an image of its own."""


@dataclass(frozen=True)
class AppService:
    """The app's own production build, served to the step (Lighthouse audits it).

    On the app's dependency install for the step's Node major (its setup commands included): `build_argv` runs in the app
    directory, then `argv` serves what it built, with `{port}` and `{host}` replaced by the executor. In Dagger: an
    exec on the install container, then that container exposed on `port` as a service bound under `name`, `{host}`
    0.0.0.0. Locally: the build in the major's workspace, then `argv` on a free 127.0.0.1 port, waited for at
    `ready_path` and always stopped. Either way the step sees the service's URL in `url_env`; `tools` are the helper
    scripts (`ci/scripts`) `argv` runs as `{tools}/<name>`.
    """

    name: str
    port: int
    build_argv: tuple[str, ...]
    argv: tuple[str, ...]
    url_env: str
    tools: tuple[str, ...] = ()
    ready_path: str = "/"

    @property
    def image(self) -> str:
        return APP_IMAGE

    def plan(self) -> dict[str, Any]:
        return {"name": self.name, "image": self.image, "port": self.port, "url_env": self.url_env,
                "build": list(self.build_argv), "args": list(self.argv)}


@dataclass(frozen=True)
class Needs:
    """What the app must have for a step to run, checked before it runs (`ci.core.preflight`).

    `package` is an npm package the app must declare (in dependencies, devDependencies or optionalDependencies):
    without it the step is `crashed` with the fix, adding it to `section` or setting `off_key` (the pipeline.yaml key
    that turns the step off), or with `optional` `skipped` (a check the app never opted into). `file` is a file of
    the app without which the step has nothing to run: it is `skipped`, naming `file_key` (the key naming the file).
    """

    package: str | None = None
    section: str = "devDependencies"
    off_key: str | None = None
    optional: bool = False
    file: str | None = None
    file_key: str | None = None


@dataclass(frozen=True)
class StepRun:
    """What an executor observed: the raw material a judge reads.

    `error` is set when the command could not run at all (missing tool, timeout, executor failure); `files` maps each
    declared output to its bytes, or None when the tool did not write it; `root` is the absolute directory the
    command ran in, so judges can make tool paths relative to the source; `services` says what the executor started
    for the step (`StepResult.services`).
    """

    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    duration_s: float = 0.0
    root: str = ""
    tool_version: str | None = None
    error: str | None = None
    started_s: float = 0.0
    services: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Judgement:
    """A judge's verdict on a step that ran: its status, findings, a one-line reason and any summary tables;
    `tool_version` when the tool said its version in its output (a tool that is no npm package), else the executor's
    is kept."""

    status: Status
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    tool_version: str | None = None
    tables: tuple[Table, ...] = ()


class ReportError(Exception):
    """The tool's report is missing or unreadable: the step crashed, whatever its exit code said."""


Judge = Callable[[StepRun], Judgement]


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Step:
    """One command of a stage. `id` is path-like (`quality/lint`), `tool` the tool's name in findings.

    `ok_codes` are exit codes meaning "ran clean", `finding_codes` "ran and found problems"; any other code is a
    crash. `node_major` is the Node it runs on, in both executors. `secrets` maps an env var name to a secret name
    the caller supplies (never a value). `package` names the npm package whose installed version is the tool
    version. `tools` names the pipeline's own helper scripts (`ci/scripts/<name>`) the step runs as `{tools}/<name>`;
    `Cache.key` may hold `{lock}`, the app's lock hash.
    `tool_image` replaces the Node image for a tool that brings its own: such a step needs no dependency install and
    runs on the source as given (in Dagger the image, its `tool_install` layers and the source mounted; locally in
    the source itself, so it must only read it and write into `{reports}`).
    `in_repo` runs the step in the repository with its history (`.git`), at the place of the app, instead of in the
    app source: in Dagger the `repo` argument, locally the git checkout holding `--source`.
    `needs_secrets` makes the step optional: it runs only when every secret it names was given, else it is skipped.
    `tool_install` are the commands that put the tool into `tool_image` (in Dagger, cached layers before the
    repository or source is mounted); on the host the tool comes from bayon's own Python environment, then PATH
    (`bayon doctor` checks it). `needs` is what the app must have for the step to run (its tool, a config file).
    """

    id: str
    tool: str
    argv: tuple[str, ...]
    judge: Judge = field(compare=False, repr=False)
    node_major: int = DEFAULT_NODE_MAJOR
    workdir: str = "."
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    caches: tuple[Cache, ...] = ()
    services: tuple[Service | AppService, ...] = ()
    outputs: tuple[str, ...] = ()
    ok_codes: frozenset[int] = frozenset({0})
    finding_codes: frozenset[int] = frozenset({1})
    timeout_s: int = DEFAULT_TIMEOUT_S
    package: str | None = None
    writes_source: bool = False
    tools: tuple[str, ...] = ()
    tool_image: str | None = None
    in_repo: bool = False
    needs_secrets: bool = False
    tool_install: tuple[tuple[str, ...], ...] = ()
    needs: Needs = Needs()
    needs_chrome: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", _frozen(self.env))
        object.__setattr__(self, "secrets", _frozen(self.secrets))

    @property
    def needs_install(self) -> bool:
        """Whether the step runs on the app's dependency install (a step on the repository, or with a tool image of
        its own, does not)."""
        return not (self.in_repo or self.tool_image)

    @property
    def app_services(self) -> tuple[AppService, ...]:
        return tuple(s for s in self.services if isinstance(s, AppService))

    @property
    def installs(self) -> bool:
        """Whether the step waits for its Node major's install (and setup commands): it runs on it, or it serves the
        app built on it."""
        return self.needs_install or bool(self.app_services)

    @property
    def image(self) -> str:
        return self.tool_image or node_image(self.node_major)

    def plan(self) -> dict[str, Any]:
        """The step as data (what `bayon plan` prints and the plan tests inspect); never holds a secret value."""
        return {
            "id": self.id,
            "tool": self.tool,
            "image": self.image,
            "argv": list(self.argv),
            "workdir": self.workdir,
            "env": dict(self.env),
            "secrets": dict(self.secrets),
            "caches": [{"key": c.key, "path": c.path, "sharing": c.sharing} for c in self.caches],
            "services": [s.plan() for s in self.services],
            "outputs": list(self.outputs),
            "ok_codes": sorted(self.ok_codes),
            "finding_codes": sorted(self.finding_codes),
            "timeout_s": self.timeout_s,
            "tools": list(self.tools),
            **({"in_repo": True} if self.in_repo else {}),
            **({"tool_install": [list(c) for c in self.tool_install]} if self.tool_install else {}),
        }
