"""Scratch copies and the reusable dependency install of the local executor."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from ci.executors.local.workspace import (
    InstallFailed, cache_root, claim_scratch, copy_source, deps_key, ensure_install, link_cache, link_tree, refresh,
)
from apps import COAGENT


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


def test_a_cache_volume_is_a_directory_under_the_cache_root_linked_into_the_copy(tmp_path: Path):
    target = tmp_path / "src" / ".next" / "cache"
    target.mkdir(parents=True)
    (target / "stale").write_text("from the checkout")  # replaced: the volume is what the step sees
    key = f"bayon-next-{uuid.uuid4().hex}-node20"  # a fresh volume, even when BAYON_CACHE_DIR is kept warm
    link_cache(key, target)
    (target / "turbopack").mkdir()
    link_cache(key, target)  # a second run finds what the first left
    volume = cache_root() / "caches" / key
    assert target.resolve() == volume.resolve() and (volume / "turbopack").is_dir()
    assert not (volume / "stale").exists()


def test_a_refresh_replaces_the_copy_but_keeps_the_linked_install(tmp_path: Path):
    src, dest, cached = tmp_path / "src", tmp_path / "work" / "src", tmp_path / "deps" / "node_modules"
    (src / "lib").mkdir(parents=True)
    (src / "lib" / "a.ts").write_text("a")
    (cached / "pkg").mkdir(parents=True)
    (cached / "pkg" / "index.js").write_text("pkg")
    refresh(src, dest, cached, "key-1")
    (dest / "out").mkdir()  # what a previous run left: build output, a fixed file
    (dest / "lib" / "a.ts").write_text("changed by a fixer")
    inode = (dest / "node_modules" / "pkg" / "index.js").stat().st_ino
    (src / "lib" / "b.ts").write_text("b")
    refresh(src, dest, cached, "key-1")
    assert sorted(p.name for p in dest.iterdir()) == ["lib", "node_modules"]
    assert (dest / "lib" / "a.ts").read_text() == "a" and (dest / "lib" / "b.ts").is_file()
    assert (dest / "node_modules" / "pkg" / "index.js").stat().st_ino == inode  # not linked again
    refresh(src, dest, cached, "key-2")  # another install: linked afresh
    assert (dest / "node_modules" / "pkg" / "index.js").stat().st_ino == (cached / "pkg" / "index.js").stat().st_ino


def test_a_second_concurrent_run_gets_a_scratch_of_its_own(tmp_path: Path):
    first, lock = claim_scratch(tmp_path)
    second, none = claim_scratch(tmp_path)
    assert lock is not None and none is None and second != first
    lock.close()
    again, lock = claim_scratch(tmp_path)
    assert again == first
    lock.close()


@pytest.mark.tools
def test_a_lockfile_out_of_sync_fails_the_install_fast_with_npms_own_words(
        app: Path, capsys: pytest.CaptureFixture):
    import json

    from ci.cli.app import main
    from ci.executors.local.executor import host_node_major

    manifest = json.loads((app / "package.json").read_text())
    manifest["dependencies"]["left-pad"] = "1.3.0"  # not in package-lock.json
    (app / "package.json").write_text(json.dumps(manifest, indent=2))
    host = host_node_major()  # one major, so one install fails and every step waits on it
    (app / "pipeline.yaml").write_text(f"version: 1\nnode: {host}\ntests:\n  node_versions: [{host}]\n")
    assert main(["ci", "--source", str(app), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    install, *steps = report["steps"]
    install_id = f"setup/install/node{host_node_major()}"
    assert (install["id"], install["status"], install["exit_code"]) == (install_id, "crashed", 1)
    assert install["reason"].splitlines() == [
        "`npm ci` exited with code 1: `npm ci` can only install packages when your package.json and package-lock.json "
        "or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.",
        "Missing: left-pad@1.3.0 from lock file"]
    assert 0 < install["duration_s"] < 60  # npm checks the lockfile before it fetches anything
    blocked = [s["id"] for s in steps if s.get("blocked_by") == install_id]
    assert blocked == [s["id"] for s in steps if s["reason"] == f"dependency install failed ({install_id})"]
    assert {"quality/lint", "quality/typecheck", "quality/format", "tests/integration", "build/next"} <= set(blocked)
    assert main(["ci", "--source", str(app)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"ci: FAILED: {install_id} crashed (`npm ci` exited with code 1: `npm ci` can only install packages when "
        f"your package.json and package-lock.json or npm-shrinkwrap.json are in sync), {len(blocked)} step(s) not run")
