"""The merged SARIF: a report made by the real gate and judges from captured tool output (ESLint, npm audit, the
secrets scan, Semgrep), turned into one SARIF 2.1.0 log, checked against the SARIF 2.1.0 schema."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from apps import FIXTURES
from npm_files import npm_file

from ci.stages.security import audit
from ci.stages.quality import eslint
from ci.output import sarif
from ci.stages.security import sast
from ci.stages.security import secrets as secrets_scan
from ci.config import load_config
from ci.core.scheduler import run_steps
from ci.core.report import Finding, StepResult
from ci.core.step import Step, StepRun

ROOT = "/src"
SECRET = {"rule": "AWS Access Key", "file": "src/config.ts", "line": 2, "commit": "c" * 40, "in_tree": False,
          "hashed_secret": "d" * 40}
SCHEMA = ("@microsoft/jest-sarif@1.0.0-beta.0", "lib/schemas/sarif-2.1.0-rtm.5.json")
"""The SARIF 2.1.0 JSON schema as Microsoft's SARIF SDK ships it (MIT), fetched by the test, not kept here."""


class Canned:
    """An executor whose steps 'ran' with captured output."""

    name = "canned"

    def __init__(self, runs: dict[str, StepRun]) -> None:
        self.runs = runs

    async def read_source_file(self, path: str) -> None:
        return None

    def unavailable_reason(self, step: Step) -> None:
        return None

    async def install(self, node_major: int, setup=None) -> StepResult:
        return StepResult(f"setup/install/node{node_major}", "npm", "passed")

    async def run(self, step: Step) -> StepRun:
        return self.runs[step.id]


def report():
    config = load_config(None)
    lint = eslint.step(22, 0)
    (prod, _) = audit.steps(audit.Policy("high", (), date(2026, 1, 1), False), True, 22)
    (secrets,) = secrets_scan.steps(config)
    (semgrep,) = sast.steps(config)
    report_json = {"version": "1.5.0", "range": "HEAD", "commits": 3, "files": 2, "baseline": None, "accepted": 0,
                   "findings": [SECRET]}
    runs = {
        lint.id: StepRun(exit_code=1, root=ROOT, tool_version="9.39.1", files={eslint.REPORT: (
            FIXTURES / "eslint" / "error-and-warning.json").read_bytes().replace(b"<ROOT>", ROOT.encode())}),
        prod.id: StepRun(exit_code=1, stdout=(FIXTURES / "security" / "npm-audit-prod.json").read_text()),
        secrets.id: StepRun(exit_code=0, files={secrets_scan.REPORT: json.dumps(report_json).encode()}),
        semgrep.id: StepRun(exit_code=0, files={sast.REPORT: (FIXTURES / "sast" / sast.REPORT).read_bytes()}),
    }
    return asyncio.run(run_steps("security", Canned(runs), [lint, prod, secrets, semgrep]))


def runs_by_tool(log: dict) -> dict[str, dict]:
    return {run["tool"]["driver"]["name"]: run for run in log["runs"]}


def test_semgrep_keeps_its_own_run_and_every_other_tool_gets_one_from_its_findings():
    merged = report()
    log = sarif.log(merged)
    assert (log["version"], log["$schema"]) == ("2.1.0", sarif.SCHEMA)
    runs = runs_by_tool(log)
    assert list(runs) == ["Semgrep OSS", "eslint", "npm-audit", "detect-secrets"]
    assert runs["Semgrep OSS"] == json.loads((FIXTURES / "sast" / sast.REPORT).read_text())["runs"][0]
    for tool, run in runs.items():
        if tool != "Semgrep OSS":
            found = [f for f in merged.findings if f.tool == tool]
            assert len(run["results"]) == len(found) > 0, tool
            rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
            assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert runs["eslint"]["tool"]["driver"]["version"] == "9.39.1"


def test_a_converted_result_has_its_level_location_fingerprint_and_extra_fields():
    log = sarif.log(report(), repo_path="examples/coagent/")
    (secret,) = runs_by_tool(log)["detect-secrets"]["results"]
    assert secret["level"] == "error" and secret["ruleId"] == "AWS Access Key"
    assert secret["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "examples/coagent/src/config.ts"}, "region": {"startLine": 2}}}]
    assert secret["properties"] == {k: SECRET[k] for k in ("commit", "in_tree", "hashed_secret")}
    assert secret["partialFingerprints"][sarif.FINGERPRINT].endswith(":1")
    levels = {r["level"] for r in runs_by_tool(log)["eslint"]["results"]}
    assert levels == {"error", "warning"}
    semgrep_uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in runs_by_tool(log)["Semgrep OSS"]["results"]}
    assert semgrep_uris == {"examples/coagent/planted.ts", "examples/coagent/Page.tsx"}


def test_results_without_a_file_have_no_location_and_stay_out_of_the_upload():
    merged = report()
    nowhere = Finding("security/licenses", "license-checker", "license/unknown", "warning", None, None, None, "x")
    log = sarif.log(replace(merged, findings=(*merged.findings, nowhere)))
    (unlocated,) = [r for run in log["runs"] for r in run["results"] if "locations" not in r]
    assert unlocated["ruleId"] == "license/unknown" and unlocated["level"] == "warning"
    kept, dropped = sarif.located(log)
    assert dropped == 1
    assert sarif.result_count(kept) == sarif.result_count(log) - dropped
    assert all(r.get("locations") for run in kept["runs"] for r in run["results"])


def test_an_unreadable_tool_sarif_falls_back_to_its_findings():
    merged = report()
    merged.artifacts["security/sast/semgrep.sarif"] = b"{broken"
    runs = runs_by_tool(sarif.log(merged))
    assert "Semgrep OSS" not in runs and len(runs["semgrep"]["results"]) == 9


@pytest.fixture(scope="module")
def schema(bayon_cache: Path) -> dict:
    return json.loads(npm_file(bayon_cache, *SCHEMA).read_text())


@pytest.mark.tools
def test_the_merged_file_is_valid_sarif_2_1_0(schema: dict):
    validator = jsonschema.Draft4Validator(schema)
    merged = report()
    for repo_path in ("", "examples/coagent"):
        validator.validate(sarif.log(merged, repo_path))
    validator.validate(sarif.located(sarif.log(merged))[0])
    broken = sarif.log(merged)
    broken["runs"][1]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError, match="'fatal' is not one of"):
        validator.validate(broken)
