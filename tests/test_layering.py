"""The layering contract in pyproject.toml holds (`lint-imports`), and a planted violation breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from apps import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)


def test_every_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "11 kept" in result.stdout


def test_a_stage_importing_an_executor_breaks_the_contract(tmp_path: Path):
    shutil.copytree(ROOT / "ci", tmp_path / "ci", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    eslint = tmp_path / "ci" / "stages" / "quality" / "eslint.py"
    eslint.write_text(eslint.read_text() + "\nfrom ci.executors.local import workspace  # planted\n")
    core = tmp_path / "ci" / "core" / "step.py"
    core.write_text(core.read_text() + "\nfrom ci.output import render  # planted\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "stages import only core and config BROKEN" in result.stdout
    assert "core imports nothing of the project BROKEN" in result.stdout
    assert "ci.stages.quality.eslint -> ci.executors.local.workspace" in result.stdout
