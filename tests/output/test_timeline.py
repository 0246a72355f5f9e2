"""Stages, wall time and the critical path, computed from handmade reports' step timings."""

from __future__ import annotations

import pytest

from ci.output.render import report_json
from ci.core.report import Report, StepResult
from ci.output.timeline import Link, StageTime, critical_path, stage_status, stages, wall_s


def step(id: str, started: float, duration: float, status: str = "passed") -> StepResult:
    return StepResult(id, id.split("/")[-1], status, duration_s=duration, started_s=started)


# git 0-1, install 1-11, then quality (lint, tsc, format) and the unit tests on two majors, all concurrent
STEPS = (
    step("setup/changes", 0.0, 1.0),
    step("setup/install/node22", 1.0, 10.0),
    step("quality/lint", 11.01, 4.0),
    step("quality/typecheck", 11.02, 9.0),
    step("quality/format", 11.0, 2.0, "failed"),
    step("tests/unit/node22", 11.03, 19.0),
    step("tests/unit/node24", 0.0, 0.0, "skipped"),
    StepResult("tests/coverage", "jest", "passed"),  # a stage-level judge: no time of its own
)
MEMBERS = {"quality": ("quality/lint", "quality/typecheck", "quality/format"),
           "unit_tests": ("tests/unit/node22", "tests/unit/node24", "tests/coverage"),
           "build": ("build/next",)}


def test_the_wall_time_is_when_the_last_step_ended():
    assert wall_s(STEPS) == pytest.approx(30.03)
    assert wall_s(()) == 0.0


def test_the_critical_path_walks_back_from_the_last_step_to_what_it_waited_for():
    path = critical_path(STEPS)
    assert [link.id for link in path] == ["setup/changes", "setup/install/node22", "tests/unit/node22"]
    assert [round(link.share, 3) for link in path] == [0.033, 0.333, 0.633]
    assert sum(link.duration_s for link in path) <= wall_s(STEPS)


def test_a_gap_before_a_step_is_time_outside_any_step_not_a_link():
    path = critical_path((step("setup/install/node22", 2.0, 8.0), step("build/next", 10.0, 10.0)))
    assert path == [Link("setup/install/node22", 8.0, 0.4), Link("build/next", 10.0, 0.5)]


def test_concurrent_siblings_are_not_on_the_path():
    # lint ended before the tests ended but started with them: it is not what the tests waited for
    path = critical_path((step("setup/install/node22", 0.0, 5.0), step("quality/lint", 5.0, 9.0),
                          step("tests/unit/node22", 5.0, 10.0)))
    assert [link.id for link in path] == ["setup/install/node22", "tests/unit/node22"]


def test_no_step_ran_means_no_path():
    assert critical_path((step("tests/unit/node24", 0.0, 0.0, "skipped"),)) == []


def test_each_stage_has_its_worst_status_and_its_span():
    assert stages(STEPS, MEMBERS) == [
        StageTime("quality", "failed", pytest.approx(9.02)),
        StageTime("unit_tests", "passed", pytest.approx(19.0)),
        StageTime("build", "skipped", 0.0),  # no step of it in the report
    ]


@pytest.mark.parametrize("statuses, allowed, expected", [
    (("passed", "crashed", "failed"), (), "crashed"),
    (("passed", "skipped"), (), "passed"),
    (("skipped", "skipped"), (), "skipped"),
    (("passed", "unavailable"), (), "unavailable"),
    (("passed", "unavailable"), ("s1",), "passed"),
])
def test_stage_status_is_the_worst_of_its_steps(statuses, allowed, expected):
    results = [StepResult(f"s{i}", "t", status) for i, status in enumerate(statuses)]
    assert stage_status(results, allowed) == expected


def test_the_report_json_carries_the_extensions():
    data = report_json(Report("ci", STEPS, (), stages=MEMBERS))
    assert data["wall_s"] == 30.03
    assert data["stages"][0] == {"name": "quality", "status": "failed", "duration_s": 9.02}
    assert data["critical_path"][-1] == {"id": "tests/unit/node22", "duration_s": 19.0, "share": 0.633}
    assert "stages" not in report_json(Report("lint", STEPS[:3], ()))  # only when the report groups its steps
