"""Shared fixtures: a scratch copy of the sample app and one dependency install cache for the whole session.

Helpers that tests import by name live beside this file (`apps`, `chain`, `gitrepo`, `npm_files`, `npm_registry`);
`pythonpath = ["tests"]` in pyproject.toml puts them on the path for every test folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The Dagger runtime sets this before importing the module; the SDK reads it at import time.
os.environ.setdefault("DAGGER_MAIN_OBJECT", "Ci")

from apps import copy_app  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def bayon_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One install cache for the session (BAYON_CACHE_DIR wins, so CI and developers can keep it warm)."""
    path = Path(os.environ.get("BAYON_CACHE_DIR") or tmp_path_factory.mktemp("bayon-cache"))
    os.environ["BAYON_CACHE_DIR"] = str(path)
    return path


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A scratch copy of the sample app a test may change."""
    return copy_app(tmp_path / "coagent")


@pytest.fixture(scope="session")
def github_spec(bayon_cache: Path):
    """GitHub's OpenAPI description (@octokit/openapi), loaded once per session: it validates every request the
    tests send to GitHub and every answer the stand-in repository (`tests/integrations/github_world.py`) gives."""
    from tests.integrations.github_world import Spec

    return Spec(bayon_cache)


@pytest.fixture
def served_github(github_spec):
    """The stand-in repository behind a local HTTP server (`.url` its API URL), for the faces, which send with the
    standard library; it must have accepted and answered every request validly."""
    from tests.integrations.github_world import World, served

    made = World(github_spec)
    with served(made) as url:
        made.url = url
        yield made
    assert made.errors == []
