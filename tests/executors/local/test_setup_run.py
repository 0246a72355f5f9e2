"""The app's setup run for real by the local executor: the install env, setup commands in the scratch copy whose
effects every step sees, and a failing command reported as its own crashed step that stops the stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.cli.app import main

pytestmark = pytest.mark.tools

# The command writes a module from the install env; a planted file imports it, so tsc passes only if the command ran
# (with the env) in the copy tsc checks.
GENERATE = """install:
  env:
    PUPPETEER_SKIP_DOWNLOAD: "1"
setup:
  - mkdir -p lib/gen && printf 'export const generated = "%s";\\n' "$PUPPETEER_SKIP_DOWNLOAD" > lib/gen/value.ts
"""
USES = 'import { generated } from "./gen/value";\n\nexport const flag: "1" = generated;\n'


def run(app: Path, tmp_path: Path, function: str) -> tuple[int, dict]:
    out = tmp_path / f"{function}.json"
    code = main([function, "--source", str(app), "--format", "json", "-o", str(out)])
    return code, json.loads(out.read_text()) if out.is_file() else {}


def statuses(report: dict) -> dict[str, tuple[str, str]]:
    return {s["id"]: (s["status"], s.get("reason", "")) for s in report["steps"]}


def test_a_setup_command_writes_a_file_that_a_step_then_reads(app: Path, tmp_path: Path):
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text() + GENERATE)
    (app / "lib" / "uses-generated.ts").write_text(USES)
    code, report = run(app, tmp_path, "typecheck")
    steps = statuses(report)
    (setup_id,) = [i for i in steps if i.startswith("setup/commands/")]
    assert setup_id.startswith("setup/commands/0/node") and steps[setup_id][0] == "passed"
    assert code == 0 and steps["quality/typecheck"] == ("passed", "clean"), steps
    assert not (app / "lib" / "gen").exists()  # in the scratch copy, never in the checkout


def test_what_setup_generated_is_no_fixers_change(app: Path, tmp_path: Path):
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text() + GENERATE)
    assert main(["format-fix", "--source", str(app), "-o", str(tmp_path / "fix.txt")]) == 0
    assert not (app / "lib" / "gen").exists()


def test_a_failing_setup_command_crashes_with_its_own_lines_and_the_stages_do_not_run(app: Path, tmp_path: Path):
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text()
                                       + "setup:\n  - echo 'no schema.prisma found' >&2; exit 4\n  - touch x\n")
    code, report = run(app, tmp_path, "quality")
    steps = statuses(report)
    (setup_id,) = [i for i in steps if i.startswith("setup/commands/")]  # the second command never ran
    status, reason = steps[setup_id]
    assert status == "crashed" and reason.startswith("`echo 'no schema.prisma found' >&2; exit 4` exited "
                                                     "with code 4:\nno schema.prisma found")
    for step_id in ("quality/lint", "quality/typecheck", "quality/format"):
        assert steps[step_id] == ("skipped", f"setup command failed ({setup_id})")
    assert code == 1 and report["passed"] is False
