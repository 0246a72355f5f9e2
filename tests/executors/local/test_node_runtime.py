"""Node majors the host lacks: brought in from npm into the cache, first on PATH for that major's install and steps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ci.core.scheduler import run_steps
from ci.core.step import Judgement, Step, StepRun
from ci.executors.local import LocalExecutor, node_runtime
from ci.executors.local.executor import host_node_major

HOST = host_node_major()
OTHER = 24 if HOST == 22 else 22  # a major this host does not have


def empty_app(path: Path) -> Path:
    """An app with no dependencies: `npm ci` has nothing to fetch."""
    path.mkdir()
    manifest = {"name": "probe", "version": "1.0.0"}
    (path / "package.json").write_text(json.dumps(manifest))
    (path / "package-lock.json").write_text(json.dumps({**manifest, "lockfileVersion": 3, "requires": True,
                                                        "packages": {"": manifest}}))
    return path


def said(run: StepRun) -> Judgement:
    return Judgement("passed", reason=run.stdout.strip())


def probe(major: int) -> Step:
    return Step(id="probe/node-version", tool="node", argv=("node", "--version"), judge=said, node_major=major)


def run(app: Path, step: Step):
    async def main():
        async with LocalExecutor(app) as executor:
            return await run_steps("probe", executor, [step])

    return asyncio.run(main())


def test_a_major_that_cannot_be_brought_in_crashes_its_install_naming_the_key(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BAYON_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(node_runtime, "package", lambda: None)  # a platform npm has no Node build for
    report = run(empty_app(tmp_path / "app"), probe(OTHER))
    install, step = report.steps
    assert (install.id, install.status) == (f"setup/install/node{OTHER}", "crashed")
    assert install.reason.startswith(f"Node {OTHER} is not on this host (it has Node {HOST}) and could not be brought "
                                     "in from npm: npm publishes no Node build for this host")
    assert "set tests.node_versions (and node) in pipeline.yaml" in install.reason
    assert (step.status, step.reason) == ("skipped", f"dependency install failed (setup/install/node{OTHER})")
    assert not report.passed


@pytest.mark.tools
def test_a_major_the_host_lacks_is_installed_from_npm_once_and_runs_the_step(tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("BAYON_CACHE_DIR", str(cache))
    app = empty_app(tmp_path / "app")
    report = run(app, probe(OTHER))
    install, step = report.steps
    assert install.status == "passed" and install.reason.endswith(f"on Node {OTHER} from npm ({node_runtime.package()})")
    assert step.status == "passed" and step.reason.startswith(f"v{OTHER}.")  # `node` on PATH is that major
    assert sorted(p.name for p in (cache / "node").iterdir()) == [str(OTHER), f"{OTHER}.lock"]  # no staging left
    assert (cache / "node" / str(OTHER) / "node_modules" / node_runtime.package() / "bin" / "node").is_file()
    assert node_runtime.cached() == [OTHER]
    again = run(app, probe(OTHER))
    assert again.steps[1].reason == step.reason and again.steps[0].reason.startswith("reused the install")
