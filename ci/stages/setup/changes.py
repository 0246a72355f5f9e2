"""Docs-only changes: what changed against `--base REF`, and whether it is documentation only.

`ci --base REF` first runs one git step in the repository (with its history): it prints where the app sits in the
repository, then every path changed since the merge base of REF and HEAD, *including uncommitted and untracked work*
(a local run tests the working tree, so the working tree is what is compared). When every changed path is
documentation, `ci` reports each test and build step as skipped with the reason; quality still runs.

What counts as documentation (`tests.docs_patterns`, default `**/*.md` and `docs/**`): a path inside the app is
matched relative to the app (`examples/coagent/docs/a.txt` matches `docs/**`); a path outside the app is matched
relative to the repository root (the root `README.md` is docs; `ci/main.py` or `.github/workflows/ci.yml` is not,
so a pipeline change runs everything). An empty diff runs everything: nothing proves the tests are unneeded.

Parsing git's output and matching patterns are pure; `ci.pipeline.docs_only` runs the step.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ci.core.errors import UsageError
from ci.core.sources import glob_source
from ci.core.step import Judgement, Step, StepRun

STEP_ID = "setup/changes"
GIT_IMAGE = "alpine/git:2.52.0"
SKIPPED_PREFIXES = ("tests/", "build/")
"""Steps with these id prefixes do not run on a docs-only change."""
ZERO_SHA = "0" * 40
"""What GitHub sends as the previous commit of a newly created branch: there is nothing to compare against."""
SHOWN_PATHS = 5
BAD_REF_EXIT = 2
SHELL_NOT_FOUND = 127

SCRIPT = (
    "set -e; "
    "git rev-parse --show-prefix; "
    'sha=$(git rev-parse --verify --quiet --end-of-options "$1^{commit}") '
    f'|| {{ echo "no commit $1 in this repository" >&2; exit {BAD_REF_EXIT}; }}; '
    'cd "$(git rev-parse --show-toplevel)"; '
    'git diff --name-only --no-renames -z --merge-base "$sha" -- '
    f'|| {{ echo "no merge base of $1 and HEAD" >&2; exit {BAD_REF_EXIT}; }}; '
    "git ls-files -z --others --exclude-standard"
)
"""Prints the app's prefix in the repository (one line), then the changed paths, NUL-separated, relative to the root:
committed since the merge base, uncommitted, and untracked. `--no-renames` lists both sides of a rename."""

GIT_ENV = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"}
"""The repository may belong to another user (a mounted directory, a container): trust it for reading."""

SHALLOW_HINT = ("pass a branch, tag or commit of this repository; in a shallow clone fetch the history first "
                "(`git fetch --unshallow`, or `fetch-depth: 0` on actions/checkout)")


@dataclass(frozen=True)
class Changes:
    """What git reported: where the app sits in the repository (`prefix`, "" or ending in "/") and the changed paths,
    relative to the repository root."""

    base: str
    prefix: str
    paths: tuple[str, ...]


def check_revision(base: str) -> str:
    """The base ref, or UsageError for one that could be read as an option or holds blanks."""
    if base.startswith("-") or any(c.isspace() or not c.isprintable() for c in base):
        raise UsageError(f"--base {base!r}: not a git revision; {SHALLOW_HINT}")
    return base


def scan_base(base: str) -> str:
    """The `--base` a scan of history or of new findings compares against (`secrets`, `sast`): "" for none, also for a
    new branch's all-zero previous commit (then the scan covers everything)."""
    return "" if not base or base == ZERO_SHA else check_revision(base)


def judge(run: StepRun, base: str, patterns: tuple[str, ...]) -> Judgement:
    """The git step passed when git answered; its reason says what changed and what `ci` does about it."""
    return Judgement("passed", reason=summary(parse(run.stdout, base), patterns))


def step(base: str, patterns: Sequence[str]) -> Step:
    """The git step: runs in the repository (its `.git` included) at the place of the app, in a small git image."""
    return Step(id=STEP_ID, tool="git", argv=("sh", "-c", SCRIPT, "sh", check_revision(base)),
                judge=functools.partial(judge, base=base, patterns=tuple(patterns)), env=GIT_ENV,
                tool_image=GIT_IMAGE, in_repo=True, timeout_s=120, finding_codes=frozenset())


def parse(stdout: str, base: str) -> Changes:
    """The step's output: the prefix line, then NUL-separated paths (deduplicated, sorted)."""
    prefix, _, rest = stdout.partition("\n")
    prefix = prefix.strip()
    return Changes(base, prefix if not prefix or prefix.endswith("/") else prefix + "/",
                   tuple(sorted({p for p in rest.split("\0") if p.strip()})))


@functools.lru_cache(maxsize=64)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: `**` spans directories (`**/` also none), `*` and `?` stay inside one segment."""
    return re.compile(glob_source(pattern) + r"\Z")


def is_docs(path: str, prefix: str, patterns: Sequence[str]) -> bool:
    """True when a changed path (relative to the repository) is documentation: matched relative to the app when it is
    inside the app, else relative to the repository root."""
    rel = path[len(prefix):] if prefix and path.startswith(prefix) else path
    return any(glob_regex(p).match(rel) for p in patterns)


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:SHOWN_PATHS])
    return shown + (f" and {len(paths) - SHOWN_PATHS} more" if len(paths) > SHOWN_PATHS else "")


def docs_only(changes: Changes, patterns: Sequence[str]) -> str | None:
    """The skip reason when every changed path is documentation; None when anything else changed or nothing did."""
    if changes.paths and all(is_docs(p, changes.prefix, patterns) for p in changes.paths):
        return f"docs-only change against {changes.base}: {_listed(changes.paths)}"
    return None


def summary(changes: Changes, patterns: Sequence[str]) -> str:
    """The git step's reason line: what changed and what `ci` does about it."""
    if not changes.paths:
        return f"no changes against {changes.base}: running everything"
    code = [p for p in changes.paths if not is_docs(p, changes.prefix, patterns)]
    if not code:
        return f"{len(changes.paths)} docs-only path(s) changed against {changes.base}: skipping tests and build"
    return f"{len(changes.paths)} path(s) changed against {changes.base}, not only docs: {_listed(code)}"
