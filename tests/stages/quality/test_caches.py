"""Tool caches never change a verdict: ESLint's cache serves only the exact source it was made from (its cross-file
rules read files its own cache does not track), Prettier's and tsc's follow the dependencies; `--no-cache` runs
without any (no cache flags, no cache volumes), from the runner down to the containers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import dagger
import pytest
from apps import COAGENT, copy_app
from chain import fields, find
from dagger import dag
from dagger._exceptions import QueryErrorValue

from ci.cli.app import main
from ci.core.executor import cache_key
from ci.executors.dagger import DaggerExecutor
from ci.executors.local.workspace import cache_root, lock_hash, source_digest
from ci.pipeline import runner
from ci.stages.build import nextjs
from ci.stages.quality import eslint, prettier, tsc

HASH = "0123456789abcdef" + "f" * 48


def test_eslints_cache_is_keyed_by_the_source_and_the_others_by_the_dependencies():
    (lint,) = eslint.step(22, 0).caches
    assert lint.key == "bayon-eslint-{lock}-{source}-node22" and eslint.fix_step(22, 0).caches == (lint,)
    assert cache_key(lint, HASH, "fedcba9876543210" + "0" * 48) == "bayon-eslint-0123456789abcdef-fedcba9876543210-node22"
    with pytest.raises(ValueError, match="keyed by the source's digest"):
        cache_key(lint, HASH)
    assert [c.key for c in prettier.step(22).caches + tsc.step(22).caches] == [
        "bayon-prettier-{lock}-node22", "bayon-tsc-{lock}-node22"]


def test_in_dagger_a_per_source_cache_is_not_mounted_and_the_others_are():
    executor = DaggerExecutor(dag.host().directory("examples/coagent"))
    base = executor.install_container(22)
    lint = executor.step_container(base, eslint.step(22, 0), HASH)
    assert not find(lint, "withMountedCache", path="/src/.bayon/cache/eslint")
    assert "--cache" in fields(lint)[-1].args["args"]  # ESLint still caches within the one exec the engine caches
    assert find(executor.step_container(base, tsc.step(22), HASH), "withMountedCache", path="/src/.bayon/cache/tsc")


def test_the_source_digest_follows_every_path_and_content_but_not_installs_or_output(tmp_path: Path):
    app = copy_app(tmp_path / "app")
    first = source_digest(app)
    (app / "node_modules" / "x").mkdir(parents=True)
    (app / "node_modules" / "x" / "index.js").write_text("installed")
    (app / ".next").mkdir()
    assert source_digest(app) == first == source_digest(COAGENT)
    (app / "lib" / "later.ts").write_text("export const later = 1;\n")
    added = source_digest(app)
    (app / "lib" / "later.ts").write_text("export const later = 2;\n")
    assert len({first, added, source_digest(app)}) == 3
    (app / "lib" / "later.ts").unlink()
    assert source_digest(app) == first


def test_without_caches_the_steps_have_no_cache_flags_and_no_volumes():
    for step in (eslint.step(22, 0, caches=False), eslint.fix_step(22, 0, caches=False), prettier.step(22, False),
                 prettier.fix_step(22, False), tsc.step(22, False)):
        assert step.caches == () and not {"--cache", "--incremental", "--cache-location"} & set(step.argv), step.id
    assert eslint.fix_step(22, 0, caches=False).argv[-1] == "--fix"


def engine_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's answers at the SDK's leaves: the sample app's files, exit 0, and no report files."""

    async def read(self, path: str) -> str | None:
        file = COAGENT / path
        return file.read_text() if file.is_file() else None

    async def zero(self) -> int:
        return 0

    async def empty(self) -> str:
        return ""

    async def missing(self) -> str:
        raise dagger.QueryError([QueryErrorValue("no such file")], SimpleNamespace(document=""))

    async def sync(self):
        return self

    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(dagger.Container, "exit_code", zero)
    monkeypatch.setattr(dagger.Container, "stdout", empty)
    monkeypatch.setattr(dagger.Container, "stderr", empty)
    monkeypatch.setattr(dagger.Container, "sync", sync)
    monkeypatch.setattr(dagger.File, "contents", missing)


@pytest.mark.parametrize("no_cache", [False, True])
def test_no_cache_reaches_every_container_the_runner_runs(monkeypatch: pytest.MonkeyPatch, no_cache: bool):
    engine_answers(monkeypatch)
    executor = DaggerExecutor(dag.directory())
    for function in ("quality", "build"):
        asyncio.run(runner.gate(function, executor, no_cache=no_cache))
    ran = {step_id: ctr for step_id, (_, ctr) in executor._ran.items()}
    assert set(ran) == {"quality/lint", "quality/typecheck", "quality/format", nextjs.STEP_ID}
    mounts = {f.args["path"] for ctr in ran.values() for f in find(ctr, "withMountedCache")} - {"/bayon/npm-cache"}
    flags = {a for ctr in ran.values() for a in fields(ctr)[-1].args["args"]} & {"--cache", "--incremental"}
    if no_cache:
        assert mounts == set() and flags == set()
    else:
        assert mounts == {"/src/.bayon/cache/prettier", "/src/.bayon/cache/tsc", "/src/.next/cache"}
        assert flags == {"--cache", "--incremental"}


# The cached run gives what an uncached run gives (the real ESLint through bayon)

UNRESOLVED = 'import { later } from "./later";\n\nexport const twice = later * 2;\n'


def lint_findings(app: Path, tmp_path: Path, *flags: str) -> tuple[int, list[tuple[str, str]]]:
    out = tmp_path / "lint.json"
    code = main(["lint", "--source", str(app), "--format", "json", "-o", str(out), *flags])
    return code, [(f["rule"], f["file"]) for f in json.loads(out.read_text())["findings"]]


@pytest.mark.tools
def test_a_file_that_resolves_an_import_clears_the_error_on_the_cached_run(app: Path, tmp_path: Path):
    config = app / "eslint.config.mjs"  # the sample's config resolves no import: plant eslint-plugin-import's rule
    config.write_text(config.read_text().replace("  globalIgnores([", '  { rules: { "import/no-unresolved": "error" } },\n  globalIgnores(['))
    (app / "lib" / "uses-later.ts").write_text(UNRESOLVED)
    assert lint_findings(app, tmp_path) == (1, [("import/no-unresolved", "lib/uses-later.ts")])
    (app / "lib" / "later.ts").write_text("export const later = 21;\n")
    assert lint_findings(app, tmp_path) == (0, [])  # cached, and what an uncached run gives:
    assert lint_findings(app, tmp_path, "--no-cache") == (0, [])
    caches = list((cache_root() / "caches").glob(f"bayon-eslint-{lock_hash(app)[:16]}-{source_digest(app)[:16]}-node*"))
    assert len(caches) == 1 and any(caches[0].iterdir())  # the cached run kept its cache for this very source
    (app / "lib" / "later.ts").unlink()  # back to the first source: its cache, and the error again
    assert lint_findings(app, tmp_path) == (1, [("import/no-unresolved", "lib/uses-later.ts")])


def test_files_the_setup_made_count_in_the_digest(tmp_path: Path):
    app = copy_app(tmp_path / "app")
    assert source_digest(app, {}) == source_digest(app)
    made = source_digest(app, {"lib/gen/value.ts": b"export const generated = 1;\n"})
    (app / "lib" / "gen").mkdir()
    (app / "lib" / "gen" / "value.ts").write_text("export const generated = 1;\n")
    assert made == source_digest(app) != source_digest(app, {"lib/gen/value.ts": b"export const generated = 2;\n"})
