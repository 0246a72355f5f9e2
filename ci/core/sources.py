"""Which parts of an app's source, and of the repository, the pipeline never reads: build output, installs and caches.

One list serves the Dagger `Ignore` on every `source` argument, the Dagger executor's source mount, and the local
executor's scratch copy, so both executors see the same files; another the `repo` argument.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence

SOURCE_IGNORE = (
    "**/node_modules",
    "**/.next",
    "out",
    "coverage",
    "reports",
    ".git",
    ".bayon/cache",
    "**/.aws-sam",
    "**/*.tsbuildinfo",
    "**/.swc",
    "**/.venv",
    "**/__pycache__",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
)
"""What an app's source leaves out: installs, build output and caches (`out`, `coverage` and `reports` only at the
app's top, where Next and Jest write them). `.bayon/baselines` and `.bayon/semgrep` are app inputs and stay."""

REPO_IGNORE = (
    "**/node_modules",
    "**/.next",
    "**/.venv",
    "**/__pycache__",
    "**/.aws-sam",
    "**/*.tsbuildinfo",
    "**/.swc",
    "**/coverage",
    "**/.bayon/cache",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/.import_linter_cache",
    ".bayon/tools",
    "sdk/**",
)
"""What the `repo` argument (the repository with its `.git`, for `ci --base`, the secrets scan and SAST) leaves out:
installs, build output, caches, the project's own tools (`.bayon/tools`, which `scripts/test.sh` fills) and the
Dagger SDK copy `dagger develop` writes (`sdk/`). Never a tracked file: git would see a left-out tracked file as
deleted (a change that is not docs), and the scanners would not read it. So only names no one tracks are left out
anywhere (`**/`); names a repository may well track (`out`, `build`, `dist`, `.cache`) stay, and a root-only entry
holds a `/`, so it means the same whether Dagger reads it the `.dockerignore` way (anchored) or the `.gitignore` way.
`tests/core/test_sources.py` checks it against `git ls-files`."""


def glob_source(pattern: str) -> str:
    """A path glob as the source of an unanchored-at-the-end regex: `**/` any directories (none included), `**`
    anything, `*` and `?` within one name. Shared by the ignore lists and the docs-only patterns."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            out.append({"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i])))
            i += 1
    return "".join(out)


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    """A pattern as Dagger's `Ignore` (moby's patternmatcher) reads it: anchored at the top, a matching directory
    leaves out everything under it."""
    return re.compile(glob_source(pattern) + r"(?:/.*)?\Z")


def ignored(relpath: str, patterns: Sequence[str] = SOURCE_IGNORE) -> bool:
    """True when a path (relative to the directory, `/`-separated) falls under `patterns` (by default the source's)."""
    return any(_regex(pattern).match(relpath) for pattern in patterns)


LOCK_INPUTS = ("package.json", "package-lock.json", ".npmrc")
"""The files that decide the dependency tree: the install layer's only inputs besides the image and npm cache."""


def lock_digest(contents: Mapping[str, bytes | None]) -> str:
    """One hash of the lock inputs (absent ones count as empty), the same in both executors."""
    digest = hashlib.sha256()
    for name in LOCK_INPUTS:
        digest.update(name.encode() + b"\0" + (contents.get(name) or b"") + b"\0")
    return digest.hexdigest()
