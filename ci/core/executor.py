"""The contract both executors (Dagger and local) fulfil, so stages never know which one runs them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from ci.core.errors import UsageError
from ci.core.report import StepResult
from ci.core.step import Cache, Step, StepRun

INSTALL_ARGV = ("npm", "ci", "--prefer-offline", "--no-audit", "--no-fund")
"""The dependency install, the same in both executors."""

STEP_ENV = {"CI": "true", "NEXT_TELEMETRY_DISABLED": "1", "NPM_CONFIG_UPDATE_NOTIFIER": "false",
            "NPM_CONFIG_FUND": "false", "FORCE_COLOR": "0"}
"""The environment every install and step gets in both executors (plain output, no telemetry, no prompts)."""

NPM_TOKEN_SECRET = "npm-token"
"""The secret a private registry's token travels under; only the dependency install receives it (as NPM_TOKEN)."""

REPORTS_PLACEHOLDER = "{reports}"
"""Stands in argv and env for the directory where a step writes its report files (outside the source tree)."""

TOOLS_PLACEHOLDER = "{tools}"
"""Stands in argv and env for the directory holding the step's helper scripts (`Step.tools`, from `ci/scripts`)."""

TOOLS_DIR = Path(__file__).parent.parent / "scripts"

LOCK_PLACEHOLDER = "{lock}"
"""Stands in a cache key for the app's lock hash (package.json, lockfile, .npmrc): the cache follows the dependencies."""

RUN_ID_PLACEHOLDER = "{run_id}"
"""Stands in an env value for the executor's run id, fresh on every run: a step whose result depends on outside data
(an advisory database) uses it so the engine never serves its exec from cache, while `bayon plan` stays the same."""


@dataclass(frozen=True)
class Setup:
    """What an app needs before its steps run (pipeline.yaml `install.env` and `setup`): environment variables for
    the dependency install and the setup commands, and shell commands run in the app directory after the install."""

    env: Mapping[str, str] = field(default_factory=dict)
    commands: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

    def plan(self, majors: Collection[int]) -> list[dict]:
        """The install (when it has an env) and each command per Node major, as `plan` shows steps."""
        entries = []
        for major in sorted(majors):
            if self.env:
                entries.append({"id": install_id(major), "tool": "npm", "argv": list(INSTALL_ARGV),
                                "env": dict(self.env)})
            entries += [{"id": setup_id(i, major), "tool": "sh", "argv": list(setup_argv(command)), "workdir": ".",
                         "env": dict(self.env)} for i, command in enumerate(self.commands)]
        return entries


NO_SETUP = Setup()


class Executor(Protocol):
    """Runs steps. `run` never raises for a tool's failure: it reports it in `StepRun.error` or the exit code."""

    name: str

    async def read_source_file(self, path: str) -> str | None:
        """A text file of the source, or None when it does not exist."""

    async def source_paths(self, patterns: Collection[str]) -> list[str]:
        """The source's files matching any of the path globs (`**/*.yaml`), relative and sorted; what the source's
        ignore list leaves out (installs, build output) is never among them."""

    def unavailable_reason(self, step: Step) -> str | None:
        """Why this executor cannot run `step` here (e.g. a secret it needs was not given), or None."""

    async def install(self, node_major: int, setup: Setup = NO_SETUP) -> StepResult:
        """Install the app's dependencies for a Node major with `setup.env` (memoized); a `setup/install` result."""

    async def run_setup(self, node_major: int, setup: Setup) -> tuple[StepResult, ...]:
        """Run `setup.commands` on that major's install, in order, once (memoized): one `setup/commands` result
        each, up to the first that did not pass; every later step of that major sees their effects."""

    async def run(self, step: Step) -> StepRun:
        """Run one step on top of the installed dependencies and collect its outputs."""

    async def output_files(self, step: Step, path: str) -> dict[str, bytes]:
        """The files of a directory a step that ran wrote (relative to its workdir, e.g. the build's `out`), by path
        relative to it, as bytes; empty when it wrote none."""

    def give_secrets(self, values: Mapping[str, str]) -> None:
        """Secrets made at run time (AWS credentials from an assumed role), by secret name: the steps naming them in
        `Step.secrets` get them as secret variables (Dagger) or env vars (local), like the secrets passed in."""


def install_id(node_major: int) -> str:
    """The step id of the dependency install for a Node major."""
    return f"setup/install/node{node_major}"


SETUP_PREFIX = "setup/commands/"


def setup_id(index: int, node_major: int) -> str:
    """The step id of the setup command at `index` on a Node major's install."""
    return f"{SETUP_PREFIX}{index}/node{node_major}"


def setup_argv(command: str) -> tuple[str, ...]:
    """How both executors run a setup command: by the shell, in the app directory."""
    return ("sh", "-c", command)


def substitute(value: str, reports_dir: str, tools_dir: str = str(TOOLS_DIR), run_id: str | None = None) -> str:
    """Replace the reports and tools placeholders (and the run id's, when given) in an argv item or env value."""
    value = value.replace(REPORTS_PLACEHOLDER, reports_dir).replace(TOOLS_PLACEHOLDER, tools_dir)
    return value if run_id is None else value.replace(RUN_ID_PLACEHOLDER, run_id)


def missing_secrets(step: Step, given: Collection[str]) -> str | None:
    """Why a step that `needs_secrets` cannot run: the secrets it names that were not given (None if it can run)."""
    missing = sorted(set(step.secrets.values()) - set(given)) if step.needs_secrets else []
    return f"no {', '.join(missing)} secret given (pass --{missing[0]} to run it)" if missing else None


SOURCE_PLACEHOLDER = "{source}"
"""Stands in a cache key for a digest of the source's every path and content: the cache serves that exact source only.
In Dagger such a cache is not mounted at all: the engine's exec cache already serves an identical source."""


def cache_key(cache: Cache, lock_hash: str, source_hash: str = "") -> str:
    """The cache's volume key with the lock and source placeholders filled in (each hash's first 16 hex digits)."""
    for placeholder, value, what in ((LOCK_PLACEHOLDER, lock_hash, "the lock hash"),
                                     (SOURCE_PLACEHOLDER, source_hash, "the source's digest")):
        if placeholder in cache.key and not value:
            raise ValueError(f"cache {cache.key!r} is keyed by {what}, but none was given")
    return cache.key.replace(LOCK_PLACEHOLDER, lock_hash[:16]).replace(SOURCE_PLACEHOLDER, source_hash[:16])


def tool_script(name: str) -> str:
    """The text of a helper script from `ci/scripts` (what `{tools}/<name>` holds)."""
    return (TOOLS_DIR / name).read_text()


def check_repo_path(repo_path: str, in_repo: bytes | None, in_source: bytes | None) -> None:
    """`--repo-path` must say where the source sits in the repository: the repository's `package.json` there
    (`in_repo`) is the source's (`in_source`). Else the steps that read the repository (git, the secrets scan, SAST)
    would read another folder, or one that does not exist, and a scan of nothing would pass: UsageError."""
    if in_source is None:
        raise UsageError("--source holds no package.json, so where it sits in the repository cannot be checked; pass "
                         "the app's folder (its package.json at the top)")
    if in_repo != in_source:
        where = f"at {repo_path.strip('/')}/" if repo_path.strip("/") else "at its root"
        found = "no package.json" if in_repo is None else "another package.json than --source's"
        raise UsageError(f"--repo-path {repo_path or '(none)'}: the repository holds {found} {where}; pass where "
                         "--source sits in the repository (e.g. --repo-path examples/coagent)")
