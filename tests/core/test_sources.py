"""What enters the engine: the `source` and `repo` arguments' Ignore patterns, matched as Dagger matches them, leave
out installs, build output, caches and the project's own tools, and keep every file git tracks."""

from __future__ import annotations

import subprocess

import pytest
from apps import COAGENT, ROOT

from ci.core.sources import REPO_IGNORE, SOURCE_IGNORE, ignored

REPO_LEFT_OUT = (
    ".venv/bin/python", "examples/coagent/.venv/pyvenv.cfg",
    ".bayon/tools/semgrep/bin/semgrep", ".bayon/tools/bin/semgrep",
    "sdk/src/dagger/__init__.py", "sdk/pyproject.toml",
    "ci/core/__pycache__/step.cpython-311.pyc", ".pytest_cache/v/cache/nodeids", ".mypy_cache/3.11/x.json",
    ".ruff_cache/0.5/x", ".import_linter_cache/a.json",
    "examples/coagent/node_modules/next/package.json", "examples/coagent/.next/cache/webpack/x.pack",
    "examples/coagent/.swc/plugins/x", "examples/coagent/coverage/lcov.info",
    "examples/coagent/backend/.aws-sam/build/template.yaml", "examples/coagent/tsconfig.tsbuildinfo",
    "examples/coagent/.bayon/cache/eslint/.cache_1",
)
REPO_KEPT = (
    ".git/HEAD", ".git/objects/pack/pack-1.pack", "ci/stages/build/nextjs.py", "tests/stages/build/test_nextjs.py",
    "examples/coagent/.bayon/semgrep/rules.yaml", "examples/coagent/.bayon/baselines/bundle-sizes.json",
    "examples/coagent/out/index.html",  # a name repositories track: kept (a few MB of a local export at most)
    "examples/sdk/README.md", "docs/.bayon/tools.md",  # root-only entries stay at the root
)


def tracked(where) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=where, capture_output=True, text=True, check=True).stdout
    return [path for path in listed.split("\0") if path]


@pytest.mark.parametrize("path", REPO_LEFT_OUT)
def test_the_repo_argument_leaves_out_installs_build_output_caches_tools_and_the_sdk(path: str):
    assert ignored(path, REPO_IGNORE)


@pytest.mark.parametrize("path", REPO_KEPT)
def test_the_repo_argument_keeps_git_the_app_inputs_and_names_a_repository_may_track(path: str):
    assert not ignored(path, REPO_IGNORE)


def test_every_file_this_repository_tracks_enters_the_engine():
    files = tracked(ROOT)
    assert "ci/main.py" in files and "examples/coagent/package.json" in files
    assert [path for path in files if ignored(path, REPO_IGNORE)] == []
    app_files = tracked(COAGENT)
    assert "package-lock.json" in app_files
    assert [path for path in app_files if ignored(path, SOURCE_IGNORE)] == []


def test_a_root_only_entry_holds_a_slash_so_dockerignore_and_gitignore_readings_agree():
    assert [p for p in REPO_IGNORE if not p.startswith("**/") and "/" not in p] == []


@pytest.mark.parametrize("path, left_out", [
    (".venv/bin/python", True), ("lib/__pycache__/a.pyc", True), (".pytest_cache/v", True),
    (".mypy_cache/x", True), (".ruff_cache/x", True), (".swc/plugins/x", True), ("backend/.aws-sam/t.yaml", True),
    ("coverage/lcov.info", True), ("out/index.html", True), (".bayon/cache/tsc/x", True),
    (".bayon/baselines/bundle-sizes.json", False), (".bayon/semgrep/rules.yaml", False),
    ("components/coverage/Card.tsx", False), ("lib/outcome.ts", False), ("app/out/page.tsx", False),
])
def test_the_source_leaves_out_caches_and_build_output_but_keeps_the_apps_inputs(path: str, left_out: bool):
    assert ignored(path) is left_out
