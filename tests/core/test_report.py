"""The one result shape: its published JSON Schema, which real and handmade reports validate against."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from apps import ROOT
from ci.cli.app import main
from ci.core.report import SEVERITIES, STATUSES, Finding, Report, StepResult, Table
from ci.output.render import report_json

SCHEMA = json.loads((ROOT / "ci" / "schemas" / "report.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

EVERY_STATUS = tuple(StepResult(f"quality/{status}", "eslint", status, "9.39.5" if status == "passed" else None,
                                0 if status == "passed" else None, 1.5, status, 0.25) for status in STATUSES)
FINDING = Finding("quality/lint", "eslint", "no-unused-vars", "warning", "lib/a.ts", 3, 7, "unused",
                  extra={"fix": "remove it"})


def test_the_schema_is_draft_2020_12_and_names_every_status_and_severity():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"].endswith("/2020-12/schema")
    assert tuple(SCHEMA["$defs"]["status"]["enum"]) == STATUSES
    assert tuple(SCHEMA["$defs"]["severity"]["enum"]) == SEVERITIES
    assert set(SCHEMA["required"]) == {"schema_version", "passed", "steps", "findings"}


def test_a_report_with_every_status_extra_finding_fields_and_the_timing_extensions_validates():
    report = Report("ci", EVERY_STATUS, (FINDING,), 2.0, stages={"quality": tuple(s.id for s in EVERY_STATUS)})
    data = report_json(report)
    assert {"stages", "wall_s", "critical_path"} <= set(data)
    VALIDATOR.validate(data)


TABLE = Table("scores", ("url", "category", "median", "baseline Δ"), (("/", "seo", 97.5, None), ("/", "performance", 90, -3.0)),
              step="performance/lighthouse")


def test_a_report_with_a_summary_table_validates_and_a_report_without_has_none():
    data = report_json(Report("lighthouse", EVERY_STATUS[:1], (), tables=(TABLE,)))
    VALIDATOR.validate(data)
    assert data["tables"] == [{"step": "performance/lighthouse", "title": "scores",
                               "columns": ["url", "category", "median", "baseline Δ"],
                               "rows": [["/", "seo", 97.5, None], ["/", "performance", 90, -3.0]]}]
    assert "tables" not in report_json(Report("lint", EVERY_STATUS[:1], ()))


@pytest.mark.parametrize("break_it, where", [
    (lambda d: d["tables"][0].update(rows=[["/", {"score": 1}]]), "table cell"),
    (lambda d: d["tables"][0].pop("columns"), "table columns"),
    (lambda d: d.pop("passed"), "passed"),
    (lambda d: d["steps"][0].update(status="green"), "status"),
    (lambda d: d["findings"][0].update(severity="fatal"), "severity"),
    (lambda d: d["critical_path"].append({"id": "x", "duration_s": 1, "share": 1.5}), "share"),
    (lambda d: d["steps"][0].update(id="quality//lint"), "id"),
])
def test_the_schema_rejects_what_breaks_the_shape(break_it, where):
    data = report_json(Report("ci", EVERY_STATUS, (FINDING,), stages={"quality": ("quality/passed",)}, tables=(TABLE,)))
    break_it(data)
    errors = list(VALIDATOR.iter_errors(data))
    assert errors, f"a broken {where} validated"


@pytest.mark.tools
def test_a_real_report_with_findings_validates(app: Path, tmp_path: Path):
    (app / "lib" / "unused.ts").write_text("const unused = 1;\n")
    out = tmp_path / "report.json"
    assert main(["lint", "--source", str(app), "--format", "json", "-o", str(out)]) == 1
    data = json.loads(out.read_text())
    assert data["findings"] and data["critical_path"] and data["stages"][0]["name"] == "lint"
    VALIDATOR.validate(data)


def test_a_step_names_the_services_it_ran_against_only_when_there_are_any():
    dagger_run = StepResult("tests/integration", "jest", "passed", services=(
        {"name": "moto", "image": "motoserver/moto:5.1.4"},))
    local_run = StepResult("tests/integration", "jest", "passed", services=({"name": "moto", "version": "5.2.1"},))
    data = report_json(Report("integration_tests", (dagger_run, local_run, EVERY_STATUS[0]), ()))
    assert [s.get("services") for s in data["steps"]] == [
        [{"name": "moto", "image": "motoserver/moto:5.1.4"}], [{"name": "moto", "version": "5.2.1"}], None]
    VALIDATOR.validate(data)
    data["steps"][0]["services"] = [{"image": "motoserver/moto:5.1.4"}]
    assert list(VALIDATOR.iter_errors(data)), "a service without its name validated"
