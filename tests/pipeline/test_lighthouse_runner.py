"""The runner's lighthouse: its flags checked before anything runs, the measured baseline, and the Dagger face's
--update-baseline (a function cannot write into the app)."""

from __future__ import annotations

import asyncio

import pytest
from apps import COAGENT, run_local
from dagger import dag

from ci import Ci
from ci.core.errors import UsageError
from ci.core.report import Report, StepResult
from ci.pipeline import runner
from ci.stages.performance import lighthouse


@pytest.mark.parametrize("call, message", [
    (lambda ex: runner.lighthouse(ex, runs=16), "--runs 16: give 1 to 15 runs per URL and form factor"),
    (lambda ex: runner.lighthouse(ex, url="staging.example.com"),
     "--url staging.example.com: give the deployed site's base URL, e.g. https://staging.example.com"),
    (lambda ex: runner.reports("lint", ex, url="https://staging.example.com"),
     "--url/--runs: only reports --function lighthouse takes them, not lint"),
])
def test_bad_flags_are_one_line_usage_errors_before_anything_runs(call, message):
    with pytest.raises(UsageError) as raised:
        run_local(call, COAGENT)
    assert str(raised.value).startswith(message)


def test_the_measured_baseline_or_why_there_is_none():
    crashed = StepResult(lighthouse.STEP_ID, "lighthouse", "crashed", reason="Lighthouse wrote no\nroot-mobile-1")
    with pytest.raises(runner.StepDidNotRun) as raised:
        runner.measured_baseline(Report("lighthouse", (crashed,), ()))
    assert str(raised.value) == ("performance/lighthouse crashed: Lighthouse wrote no root-mobile-1; "
                                 "no baseline written")
    measured = Report("lighthouse", (), (), artifacts={lighthouse.NEW_BASELINE: b"{}"})
    assert runner.measured_baseline(measured) == b"{}"
    assert runner.report_files(measured)[lighthouse.NEW_BASELINE] == b"{}"
    assert lighthouse.NEW_BASELINE not in runner.report_files(Report("lint", (), ()))


def test_in_dagger_update_baseline_says_how_to_export_it():
    with pytest.raises(UsageError) as raised:
        asyncio.run(Ci().lighthouse(source=dag.host().directory("examples/coagent"), update_baseline=True))
    assert "reports/lighthouse-baseline.json" in str(raised.value) and "\n" not in str(raised.value)
