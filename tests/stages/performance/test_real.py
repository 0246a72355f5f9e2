"""Lighthouse for real, with Debian's Chromium, on copies of the sample app: its static export and a server-rendered
build served by `next start`, one run per form factor. The report's structure is asserted, never a score (machine
load moves scores; it cannot move the structure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apps import copy_app, run_local, server_rendered

from ci.cli.app import main
from ci.cli.commands import write_reports
from ci.pipeline import runner
from ci.stages.performance import lighthouse

CATEGORIES = {"performance", "accessibility", "best-practices", "seo"}
pytestmark = pytest.mark.tools


def app(tmp_path: Path, lighthouse_yaml: str = "") -> Path:
    root = copy_app(tmp_path / "coagent")
    if lighthouse_yaml:
        (root / "pipeline.yaml").write_text((root / "pipeline.yaml").read_text() + f"lighthouse:\n{lighthouse_yaml}")
    return root


def test_the_static_export_is_audited_desktop_and_mobile_and_the_baseline_written(tmp_path: Path, capsys):
    source = app(tmp_path)
    code = main(["lighthouse", "--source", str(source), "--runs", "1", "--update-baseline", "--format", "json",
                 "-o", str(tmp_path / "report.json")])
    report = json.loads((tmp_path / "report.json").read_text())
    step = next(s for s in report["steps"] if s["id"] == lighthouse.STEP_ID)
    assert step["status"] in ("passed", "failed") and code == (0 if step["status"] == "passed" else 1), step
    assert step["services"] == [{"name": "app"}] and "Lighthouse 12.8.2" in step["reason"]
    assert [s["id"] for s in report["steps"]] == ["setup/install/node22", lighthouse.STEP_ID]
    (table,) = report["tables"]
    assert table["step"] == lighthouse.STEP_ID and table["columns"] == list(lighthouse.COLUMNS)
    assert {(r[0], r[1], r[2]) for r in table["rows"]} == {("/", ff, c) for ff in ("desktop", "mobile") for c in CATEGORIES}
    assert {r[7] for r in table["rows"]} == {"root-desktop-1.report", "root-mobile-1.report"}
    assert all(0 <= r[3] <= 100 and r[5] is None for r in table["rows"])  # no baseline yet: no delta
    baseline = json.loads((source / ".bayon" / "baselines" / "lighthouse.json").read_text())
    assert baseline["runs"] == 1 and set(baseline["scores"]["/"]) == {"desktop", "mobile"}
    assert set(baseline["scores"]["/"]["mobile"]) == CATEGORIES
    assert "wrote .bayon/baselines/lighthouse.json" in capsys.readouterr().err


def test_a_server_rendered_app_is_served_by_next_start_and_its_runs_are_report_files(tmp_path: Path):
    source = server_rendered(app(tmp_path, "  form_factors: [desktop]\n  runs: 1\n"))

    async def audited(executor):
        report = await runner.lighthouse(executor)
        return report, (executor.workspace(22) / "out").exists(), (executor.workspace(22) / ".next" / "BUILD_ID").exists()

    report, exported, built = run_local(audited, source)
    step = next(s for s in report.steps if s.id == lighthouse.STEP_ID)
    assert step.status in ("passed", "failed"), step.reason  # a 404 from a server serving nothing would crash it
    assert built and not exported  # a server build, no static export: the script ran `next start`
    count = write_reports(report, tmp_path / "reports")
    written = {p.relative_to(tmp_path / "reports").as_posix() for p in (tmp_path / "reports").rglob("*") if p.is_file()}
    assert {f"{lighthouse.STEP_ID}/root-desktop-1.report.json", f"{lighthouse.STEP_ID}/root-desktop-1.report.html",
            lighthouse.NEW_BASELINE, "report.json", "report.md"} <= written and count == len(written)
    assert "<html" in (tmp_path / "reports" / lighthouse.STEP_ID / "root-desktop-1.report.html").read_text()[:2000].lower()
    assert "| / | desktop | performance |" in (tmp_path / "reports" / "report.md").read_text()


def test_without_chromium_one_line_and_exit_3(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("CHROME_PATH", str(tmp_path / "no-chromium"))
    assert main(["lighthouse", "--source", str(app(tmp_path)), "--runs", "1"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"bayon: Chromium is not installed at {tmp_path / 'no-chromium'}: install Debian's package "
                       "(`apt-get install -y chromium`) or set CHROME_PATH to a Chrome or Chromium binary; `bayon "
                       "doctor` checks it")


def test_a_site_that_does_not_answer_crashes_the_audit_and_writes_no_baseline(tmp_path: Path, capsys):
    source = app(tmp_path, "  form_factors: [desktop]\n")
    code = main(["lighthouse", "--source", str(source), "--url", "http://127.0.0.1:9", "--runs", "1",
                 "--update-baseline"])
    (err,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert code == 1 and err.startswith(f"bayon: {lighthouse.STEP_ID} crashed: lighthouse exited with code 3:"), err
    assert "code 3: lighthouse-runs: lighthouse http://127.0.0.1:9/ (desktop, run 1) failed: exit code 1:" in err
    assert err.endswith("; no baseline written") and not (source / ".bayon" / "baselines" / "lighthouse.json").exists()
