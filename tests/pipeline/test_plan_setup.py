"""`plan` shows the app's setup: the install with its env and each setup command, per Node major, before the steps."""

from __future__ import annotations

import json
from pathlib import Path

from ci.cli.app import main

SETUP = 'install:\n  env:\n    PUPPETEER_SKIP_DOWNLOAD: "1"\nsetup:\n  - npx prisma generate\n'


def plan(tmp_path: Path, capsys, yaml: str, function: str) -> list[dict]:
    (tmp_path / "pipeline.yaml").write_text(yaml)
    assert main(["plan", function, "--source", str(tmp_path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_plan_starts_with_the_install_env_and_the_setup_commands(tmp_path: Path, capsys):
    steps = plan(tmp_path, capsys, SETUP, "quality")
    install, command, *rest = steps
    assert install == {"id": "setup/install/node22", "tool": "npm",
                       "argv": ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"],
                       "env": {"PUPPETEER_SKIP_DOWNLOAD": "1"}}
    assert command == {"id": "setup/commands/0/node22", "tool": "sh", "argv": ["sh", "-c", "npx prisma generate"],
                       "workdir": ".", "env": {"PUPPETEER_SKIP_DOWNLOAD": "1"}}
    assert [s["id"] for s in rest] == ["quality/lint", "quality/typecheck", "quality/format"]


def test_every_major_the_steps_install_for_gets_the_setup_and_in_repo_steps_none(tmp_path: Path, capsys):
    steps = plan(tmp_path, capsys, SETUP + "tests:\n  node_versions: [20, 24]\n", "ci")
    setup = [s["id"] for s in steps if s["id"].startswith("setup/")]
    assert setup == [f"setup/{what}/node{major}" for major in (20, 22, 24) for what in ("install", "commands/0")]
    scans = plan(tmp_path, capsys, SETUP, "secrets")  # in the repository: no install, so no setup
    assert [s["id"] for s in scans] == ["security/secrets"]


def test_without_setup_the_plan_is_the_steps_only(tmp_path: Path, capsys):
    assert [s["id"] for s in plan(tmp_path, capsys, "version: 1\n", "lint")] == ["quality/lint"]
