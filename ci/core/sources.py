"""Which parts of an app's source the pipeline never reads: build output, installs and caches.

One list serves the Dagger `Ignore` on every `source` argument, the Dagger executor's source mount, and the local
executor's scratch copy, so both executors see the same files.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping

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
)


def ignored(relpath: str) -> bool:
    """True when a path (relative to the source, `/`-separated) falls under `SOURCE_IGNORE`."""
    parts = relpath.split("/")
    for pattern in SOURCE_IGNORE:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif relpath == pattern or relpath.startswith(pattern + "/"):
            return True
    return False


REPO_IGNORE = ("**/node_modules", "**/.next", "**/.venv", "**/__pycache__", "**/.aws-sam", "**/*.tsbuildinfo")
"""What the `repo` argument (the repository with its `.git`, for `ci --base`) leaves out: installs and build output
only, never tracked files (git would see a left-out tracked file as deleted, a change that is not docs)."""


LOCK_INPUTS = ("package.json", "package-lock.json", ".npmrc")
"""The files that decide the dependency tree: the install layer's only inputs besides the image and npm cache."""


def lock_digest(contents: Mapping[str, bytes | None]) -> str:
    """One hash of the lock inputs (absent ones count as empty), the same in both executors."""
    digest = hashlib.sha256()
    for name in LOCK_INPUTS:
        digest.update(name.encode() + b"\0" + (contents.get(name) or b"") + b"\0")
    return digest.hexdigest()
