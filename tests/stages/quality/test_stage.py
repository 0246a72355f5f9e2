"""The quality stage with the real tools (ESLint, tsc, Prettier) through the local executor on the sample app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.cli.app import main
from apps import copy_app

pytestmark = pytest.mark.tools

PLANTED = {
    # a hook called conditionally: ESLint's react-hooks/rules-of-hooks, and nothing else
    "components/Planted.tsx": (
        'import { useState } from "react";\n\n'
        "export function Planted({ on }: { on: boolean }) {\n"
        "  if (on) {\n"
        "    const [count] = useState(0);\n"
        "    return <p>{count}</p>;\n"
        "  }\n"
        "  return null;\n"
        "}\n"
    ),
    "lib/planted-type.ts": 'export const answer: number = "forty-two";\n',  # one type error
    "lib/planted-format.ts": "export const  planted = {a:1,\n    b:2}\n",  # one unformatted file
}


def quality_json(source: Path, tmp: Path, *extra: str) -> tuple[int, dict]:
    out = tmp / "report.json"
    code = main(["quality", "--source", str(source), "--format", "json", "-o", str(out), *extra])
    return code, json.loads(out.read_text())


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = copy_app(tmp_path_factory.mktemp("planted") / "coagent")
    for rel, text in PLANTED.items():
        (app / rel).write_text(text)
    return app


def test_the_clean_sample_app_passes(app: Path, tmp_path: Path):
    code, report = quality_json(app, tmp_path)
    assert code == 0 and report["passed"] is True
    assert report["findings"] == []
    steps = {s["id"]: s for s in report["steps"]}
    for step_id, tool in (("quality/lint", "eslint"), ("quality/typecheck", "tsc"), ("quality/format", "prettier")):
        assert steps[step_id]["status"] == "passed" and steps[step_id]["tool"] == tool
        assert steps[step_id]["tool_version"]  # read from the installed package


def test_planted_problems_fail_with_exactly_those_findings(planted: Path, tmp_path: Path):
    code, report = quality_json(planted, tmp_path)
    assert code == 1 and report["passed"] is False
    found = {(f["step"], f["tool"], f["rule"], f["severity"], f["file"], f["line"]) for f in report["findings"]}
    assert found == {
        ("quality/lint", "eslint", "react-hooks/rules-of-hooks", "error", "components/Planted.tsx", 5),
        ("quality/typecheck", "tsc", "TS2322", "error", "lib/planted-type.ts", 1),
        ("quality/format", "prettier", "prettier/format", "error", "lib/planted-format.ts", None),
    }
    assert {s["id"]: s["status"] for s in report["steps"]}["quality/lint"] == "failed"


def test_format_fix_rewrites_the_file_and_the_check_then_passes(planted: Path, tmp_path: Path):
    app = copy_app(tmp_path / "fixme")
    (app / "lib/planted-format.ts").write_text(PLANTED["lib/planted-format.ts"])
    assert main(["format-fix", "--source", str(app), "-o", str(tmp_path / "fix.txt")]) == 0
    assert (app / "lib/planted-format.ts").read_text() == "export const planted = { a: 1, b: 2 };\n"
    assert main(["format-check", "--source", str(app), "-o", str(tmp_path / "check.txt")]) == 0


def test_a_crashing_tool_is_a_crashed_step_with_its_stderr(app: Path, tmp_path: Path):
    (app / "eslint.config.mjs").write_text("export default [ this is not javascript\n")
    out = tmp_path / "lint.json"
    assert main(["lint", "--source", str(app), "--format", "json", "-o", str(out)]) == 1
    (lint,) = [s for s in json.loads(out.read_text())["steps"] if s["id"] == "quality/lint"]
    assert lint["status"] == "crashed" and lint["exit_code"] == 2
    assert "SyntaxError" in lint["reason"] or "Parsing error" in lint["reason"]
