"""Host tools are found where setup puts them, before PATH: bayon's own environment, then the project's tools."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ci.cli import doctor
from ci.executors.local import tools


def executable(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\necho 1.185.0\n")
    path.chmod(0o755)
    return path


def test_the_projects_tools_are_found_without_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    semgrep = executable(tmp_path / "tools" / "bin", "semgrep-like")
    monkeypatch.setattr(tools, "PROJECT_TOOLS", semgrep.parent)
    monkeypatch.setenv("PATH", "")
    assert tools.find("semgrep-like") == str(semgrep)
    assert tools.tool_path("/usr/bin").split(":") == [str(Path(sys.executable).parent), str(semgrep.parent), "/usr/bin"]


def test_bayons_own_environment_comes_before_the_project_tools_and_path(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path):
    name = Path(sys.executable).name  # a command that bayon's own bin directory holds
    executable(tmp_path / "tools", name)
    executable(tmp_path / "path", name)
    monkeypatch.setattr(tools, "PROJECT_TOOLS", tmp_path / "tools")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert tools.find(name) == str(Path(sys.executable).parent / name)


def test_doctor_lists_an_optional_tool_without_failing(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(doctor, "version", lambda tool: None if tool.optional else "v22.1.0")
    assert doctor.main() == 0
    out = capsys.readouterr().out
    assert "– chromium       missing, optional (for lighthouse)" in out
    assert out.strip().endswith("all tools present")
