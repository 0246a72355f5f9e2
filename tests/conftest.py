"""Shared fixtures: a scratch copy of the sample app and one dependency install cache for the whole session."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

# The Dagger runtime sets this before importing the module; the SDK reads it at import time.
os.environ.setdefault("DAGGER_MAIN_OBJECT", "Ci")

from ci.local_executor import LocalExecutor
from ci.sources import ignored

ROOT = Path(__file__).resolve().parent.parent
COAGENT = ROOT / "examples" / "coagent"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def bayon_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One install cache for the session (BAYON_CACHE_DIR wins, so CI and developers can keep it warm)."""
    path = Path(os.environ.get("BAYON_CACHE_DIR") or tmp_path_factory.mktemp("bayon-cache"))
    os.environ["BAYON_CACHE_DIR"] = str(path)
    return path


def copy_app(dest: Path) -> Path:
    """A copy of the sample app without installs or build output (what a fresh checkout holds)."""
    shutil.copytree(COAGENT, dest, ignore=lambda d, names: {
        n for n in names if ignored((Path(d) / n).relative_to(COAGENT).as_posix())})
    return dest


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A scratch copy of the sample app a test may change."""
    return copy_app(tmp_path / "coagent")


def run_local(coro_fn, source: Path, secrets: dict[str, str] | None = None):
    """Run `coro_fn(executor)` with a LocalExecutor on `source` and return its result."""

    async def main():
        async with LocalExecutor(source, secrets) as executor:
            return await coro_fn(executor)

    return asyncio.run(main())
