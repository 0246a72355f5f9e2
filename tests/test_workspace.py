"""Scratch copies and the reusable dependency install of the local executor."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ci.workspace import InstallFailed, copy_source, deps_key, ensure_install, link_tree
from conftest import COAGENT


def test_the_scratch_copy_leaves_out_installs_build_output_and_git(tmp_path: Path):
    src = tmp_path / "src"
    for rel in ("app/page.tsx", "node_modules/x/index.js", "lib/node_modules/y.js", ".next/cache/a", "out/index.html",
                ".git/HEAD", "coverage/lcov.info", "lib/outcome.ts", "backend/.aws-sam/build/t.yaml", "tsconfig.tsbuildinfo"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    copy_source(src, tmp_path / "dest")
    copied = sorted(p.relative_to(tmp_path / "dest").as_posix() for p in (tmp_path / "dest").rglob("*") if p.is_file())
    assert copied == ["app/page.tsx", "lib/outcome.ts"]


def test_the_install_key_follows_the_lockfile_and_the_node_major(tmp_path: Path):
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    key = deps_key(tmp_path, 20)
    assert key.endswith("-node20") and deps_key(tmp_path, 22) != key
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    assert deps_key(tmp_path, 20) != key


def test_no_lockfile_is_a_clear_failure(tmp_path: Path):
    (tmp_path / "package.json").write_text("{}")
    with pytest.raises(InstallFailed, match="package-lock.json is missing; run `npm install`"):
        asyncio.run(ensure_install(tmp_path, 20, dict(os.environ)))


@pytest.mark.tools
def test_a_second_run_reuses_the_install_through_hardlinks(tmp_path: Path):
    first, _ = asyncio.run(ensure_install(COAGENT, 20, dict(os.environ)))
    second, reused = asyncio.run(ensure_install(COAGENT, 20, dict(os.environ)))
    assert reused and second == first
    link_tree(second, tmp_path / "node_modules")
    probe = Path("next") / "package.json"
    assert (tmp_path / "node_modules" / probe).stat().st_ino == (second / probe).stat().st_ino
