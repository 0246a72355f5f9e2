"""The unit-test stage: shards, the coverage gate and merge-coverage (pure), then real Jest on the sample app.

The real-tool tests share their runs through module-scoped fixtures: one clean run, one run with a planted failing
test and a 100% line threshold, one run with `tests.shards: 2`, and two `--shard i/n` runs merged by merge-coverage.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from istanbul import file

from ci.pipeline import runner
from ci.pipeline import registry
from ci.stages.tests import unit as unit_tests
from ci.cli.app import main
from ci.config import Coverage, Tests, load_config
from ci.config.node_releases import lts
from ci.core.errors import UsageError
from ci.core.report import Report, StepResult
from ci.core.step import ReportError, StepRun
from ci.stages.tests.unit import Shard
from apps import FIXTURES, copy_app

COVERAGE = Coverage(lines=80, branches=70, functions=70, statements=80)
TESTS = Tests(node_versions=[22, 24], coverage=COVERAGE)


def coverage_json(root: str, s: list[int]) -> bytes:
    return json.dumps({f"{root}/lib/a.ts": file(f"{root}/lib/a.ts", s, [1], [[1, 1]])}).encode()


def cobertura(root: str) -> bytes:
    return f"<coverage><sources><source>{root}</source></sources></coverage>".encode()


def report(statuses: dict[str, str], artifacts: dict[str, bytes] | None = None) -> Report:
    steps = tuple(StepResult(i, "jest", status, reason=f"{i} was {status}") for i, status in statuses.items())
    return Report("unit_tests", steps, (), artifacts=artifacts or {})


# shards and steps

@pytest.mark.parametrize(("text", "shard"), [("1/2", Shard(1, 2)), (" 2 / 2 ", Shard(2, 2)), ("1/1", Shard(1, 1))])
def test_a_shard_is_i_of_n(text: str, shard: Shard):
    assert Shard.parse(text) == shard and str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize("text", ["3/2", "0/2", "1/0", "2", "a/b", "1/2/3", "-1/2", ""])
def test_a_bad_shard_is_a_one_line_usage_error(text: str):
    with pytest.raises(UsageError) as caught:
        Shard.parse(text)
    assert str(caught.value) == f"--shard {text}: not a shard; use i/n with 1 <= i <= n, e.g. --shard 1/2"


def test_one_step_per_major_and_shard():
    config = load_config("tests:\n  node_versions: [18, 20, 22]\n  shards: 2\n")
    ids = [s.id for s in unit_tests.steps(config)]
    assert ids == [f"tests/unit/node{m}/shard{i}of2" for m in (18, 20, 22) for i in (1, 2)]
    assert [s.argv[-2:] for s in unit_tests.steps(config)][:2] == [("--shard=1/2", "--passWithNoTests"),
                                                                   ("--shard=2/2", "--passWithNoTests")]
    assert {s.node_major for s in unit_tests.steps(config)} == {18, 20, 22}
    only = unit_tests.steps(config, Shard(2, 3))  # --shard wins over tests.shards
    assert [s.id for s in only] == [f"tests/unit/node{m}/shard2of3" for m in (18, 20, 22)]
    unsharded = unit_tests.steps(load_config(None))  # the default matrix: the LTS majors of the day (22, 24, 26 now)
    assert [s.id for s in unsharded] == [f"tests/unit/node{m}" for m in lts(date.today())]
    assert not any(a.startswith("--shard") for s in unsharded for a in s.argv)


def test_ci_runs_the_unit_tests_and_unit_tests_is_a_gate():
    steps, _ = runner.ci_steps(load_config(None))
    assert {"tests/unit/node22", "tests/unit/node24"} <= {s.id for s in steps}
    assert "unit_tests" in registry.STAGES and registry.GATES["unit_tests"] is registry.STAGES["unit_tests"]


# the coverage gate (the `tests/coverage` aggregate)

def test_the_gate_reads_the_first_configured_major_that_ran():
    artifacts = {
        "tests/unit/node24/coverage-final.json": coverage_json("/src", [1, 1, 1, 1, 0]),
        "tests/unit/node24/cobertura-coverage.xml": cobertura("/src"),
    }
    result, found = unit_tests.gate(report({"tests/unit/node22": "skipped", "tests/unit/node24": "passed"}, artifacts),
                                    TESTS)
    assert (result.id, result.tool, result.status) == ("tests/coverage", "coverage", "passed")
    assert result.reason == "Node 24: lines 80% >= 80%, branches 100% >= 70%, functions 100% >= 70%, statements 80% >= 80%"
    assert found == ()


def test_each_metric_under_its_threshold_is_a_finding():
    artifacts = {"tests/unit/node22/coverage-final.json": coverage_json("/src", [1, 1, 1, 0, 0])}
    result, found = unit_tests.gate(report({"tests/unit/node22": "failed", "tests/unit/node24": "failed"}, artifacts),
                                    TESTS)
    assert result.status == "failed"
    assert result.reason == "Node 22: lines 60% < 80%, branches 100% >= 70%, functions 100% >= 70%, statements 60% < 80%"
    assert [(f.step, f.tool, f.rule, f.severity, f.file) for f in found] == [
        ("tests/coverage", "coverage", "coverage/lines", "error", None),
        ("tests/coverage", "coverage", "coverage/statements", "error", None),
    ]
    assert found[0].message == "lines coverage is 60% (3/5), below the 80% minimum (tests.coverage.lines)"
    assert found[0].to_json()["threshold"] == 80 and found[0].to_json()["pct"] == 60


def test_shards_are_merged_before_the_gate():
    shard_ids = ["tests/unit/node22/shard1of2", "tests/unit/node22/shard2of2"]
    artifacts = {f"{shard_ids[0]}/coverage-final.json": coverage_json("/src", [1, 1, 0, 0, 0]),
                 f"{shard_ids[1]}/coverage-final.json": coverage_json("/src", [0, 0, 1, 1, 0])}
    tests = Tests(node_versions=[22], shards=2, coverage=COVERAGE)
    result, found = unit_tests.gate(report(dict.fromkeys(shard_ids, "passed"), artifacts), tests)
    assert result.reason.startswith("Node 22, 2 shards merged: lines 80% >= 80%")
    assert result.status == "passed" and found == ()


def test_no_major_that_could_run_fails_the_stage():
    statuses = {"tests/unit/node22": "skipped", "tests/unit/node24": "skipped"}
    result, found = unit_tests.gate(report(statuses), TESTS)
    assert result.status == "failed" and found == ()
    assert result.reason == ("no configured Node major could run here (configured 22, 24): "
                             "tests/unit/node22 was skipped")


def test_a_single_shard_leaves_the_gate_to_merge_coverage():
    statuses = {"tests/unit/node22/shard1of2": "passed", "tests/unit/node24/shard1of2": "skipped"}
    result, _ = unit_tests.gate(report(statuses), TESTS, Shard(1, 2))
    assert result.status == "skipped" and "shard 1/2 only: merge-coverage applies the coverage gate" in result.reason
    skipped = dict.fromkeys(statuses, "skipped")
    assert unit_tests.gate(report(skipped), TESTS, Shard(1, 2))[0].status == "failed"  # still never a silent pass


def test_missing_or_unreadable_coverage_is_crashed():
    statuses = {"tests/unit/node22": "failed", "tests/unit/node24": "skipped"}
    result, _ = unit_tests.gate(report(statuses), TESTS)
    assert result.status == "crashed"
    assert result.reason == "no coverage data: tests/unit/node22/coverage-final.json was not written"
    broken = {"tests/unit/node22/coverage-final.json": b"{"}
    result, _ = unit_tests.gate(report(statuses, broken), TESTS)
    assert result.status == "crashed" and result.reason.startswith("tests/unit/node22/coverage-final.json is not JSON")


def test_coverage_of_no_code_fails():
    artifacts = {"tests/unit/node22/coverage-final.json": b"{}"}
    result, _ = unit_tests.gate(report({"tests/unit/node22": "passed"}, artifacts), TESTS)
    assert result.status == "failed" and "measures no code; set collectCoverageFrom" in result.reason


# the app's own coverageThreshold (recorded `jest --showConfig` of the sample app with thresholds set)

SHOW_CONFIG = (FIXTURES / "jest" / "show-config.json").read_bytes()
APP_GLOBAL_90 = json.dumps({"globalConfig": {"coverageThreshold": {"global": {"lines": 90, "functions": 50,
                                                                               "branches": -1}}}}).encode()


def with_config(statuses: dict[str, str], artifacts: dict[str, bytes], config: bytes | None) -> Report:
    """A unit-test report whose `tests/unit/jest-config` step passed (and wrote `config`, when given)."""
    files = {**artifacts, **({"tests/unit/jest-config/jest-config.json": config} if config is not None else {})}
    return report({"tests/unit/jest-config": "passed", **statuses}, files)


def test_the_config_step_reads_the_apps_thresholds_as_jest_resolved_them():
    step = unit_tests.config_step(load_config("tests:\n  node_versions: [24, 22]\n"))
    assert (step.id, step.node_major, step.outputs) == ("tests/unit/jest-config", 24, ("jest-config.json",))
    assert step.argv == ("sh", "-c", 'node_modules/.bin/jest --showConfig > "{reports}/jest-config.json"')
    assert unit_tests.app_thresholds(SHOW_CONFIG, "x") == {
        "global": {"lines": 99.5, "branches": -0.5}, "./lib/": {"statements": 100},
        "./components/**/*.tsx": {"functions": 100}, "./nothing/": {"lines": 1}}
    judgement = unit_tests.judge_config(StepRun(exit_code=0, files={"jest-config.json": SHOW_CONFIG}))
    assert judgement.reason == ("coverageThreshold: global branches -0.5, lines 99.5; ./lib/ statements 100; "
                                "./components/**/*.tsx functions 100; ./nothing/ lines 1")
    assert unit_tests.judge_config(StepRun(exit_code=0, files={"jest-config.json": NO_THRESHOLDS})).reason == (
        "no coverageThreshold")
    with pytest.raises(ReportError, match="is not the output of `jest --showConfig`"):
        unit_tests.judge_config(StepRun(exit_code=0, files={"jest-config.json": b"Error: Cannot find module"}))
    assert [s.id for s in registry.STAGES["unit_tests"].steps(load_config(None))][0] == "tests/unit/jest-config"


def test_the_stricter_global_threshold_wins_and_the_reason_says_which():
    artifacts = {"tests/unit/node22/coverage-final.json": coverage_json("/src", [1, 1, 1, 1, 0])}
    result, found = unit_tests.gate(with_config({"tests/unit/node22": "passed"}, artifacts, APP_GLOBAL_90),
                                    Tests(node_versions=[22], coverage=COVERAGE))
    assert result.status == "failed"
    assert result.reason == ("Node 22: lines 80% < 90% (coverageThreshold.global in the app's Jest config), "
                             "branches 100% >= 70%, branches 0 uncovered <= 1 (coverageThreshold.global in the app's "
                             "Jest config), functions 100% >= 70%, statements 80% >= 80%")
    (low,) = found
    assert (low.rule, low.to_json()["threshold"]) == ("coverage/lines", 90)
    assert low.message == ("lines coverage is 80% (4/5), below the 90% minimum (coverageThreshold.global in the "
                           "app's Jest config, stricter than tests.coverage.lines)")


def test_an_app_allowing_fewer_uncovered_items_than_there_are_fails():
    artifacts = {"tests/unit/node22/coverage-final.json": coverage_json("/src", [1, 1, 1, 0, 0])}
    config = json.dumps({"globalConfig": {"coverageThreshold": {"global": {"statements": -1}}}}).encode()
    result, found = unit_tests.gate(with_config({"tests/unit/node22": "passed"}, artifacts, config),
                                    Tests(node_versions=[22], coverage=Coverage(lines=0, branches=0, functions=0,
                                                                                statements=0)))
    assert result.status == "failed" and "statements 2 uncovered > 1 (coverageThreshold" in result.reason
    assert [f.message for f in found] == [
        "statements: 2 of 5 not covered, more than the 1 allowed (coverageThreshold.global in the app's Jest config)"]


def test_path_and_glob_thresholds_fail_a_sharded_run_instead_of_being_dropped():
    shard_ids = ["tests/unit/node22/shard1of2", "tests/unit/node22/shard2of2"]
    artifacts = {f"{i}/coverage-final.json": coverage_json("/src", [1, 1, 1, 1, 1]) for i in shard_ids}
    tests = Tests(node_versions=[22], shards=2, coverage=COVERAGE)
    result, found = unit_tests.gate(with_config(dict.fromkeys(shard_ids, "passed"), artifacts, SHOW_CONFIG), tests)
    assert result.status == "failed" and [f.rule for f in found] == ["coverage/sharded-groups"]
    assert result.reason.startswith("the app's Jest coverageThreshold has path or glob groups (./lib/, "
                                    "./components/**/*.tsx, ./nothing/), which a shard alone cannot meet")
    unsharded = {"tests/unit/node22/coverage-final.json": coverage_json("/src", [1, 1, 1, 1, 1])}
    result, _ = unit_tests.gate(with_config({"tests/unit/node22": "passed"}, unsharded, SHOW_CONFIG),
                                Tests(node_versions=[22], coverage=COVERAGE))
    assert result.status == "passed"  # unsharded, Jest holds the groups itself (test_jest)


def test_an_unread_jest_config_crashes_the_gate():
    artifacts = {"tests/unit/node22/coverage-final.json": coverage_json("/src", [1, 1, 1, 1, 1])}
    result, _ = unit_tests.gate(with_config({"tests/unit/node22": "passed"}, artifacts, None), TESTS)
    assert result.status == "crashed"
    assert result.reason == ("the app's Jest config was not read (tests/unit/jest-config passed): its "
                             "coverageThreshold cannot be honoured")


def test_merge_coverage_honours_the_apps_thresholds_from_the_exported_config():
    one = shard_dir(22, 1, 2, "/src", [1, 1, 0, 0, 0], APP_GLOBAL_90)
    two = shard_dir(22, 2, 2, "/src", [0, 0, 1, 1, 0], APP_GLOBAL_90)
    (step,) = unit_tests.merge_report(TESTS, [("one", one), ("two", two)]).steps
    assert step.status == "failed" and step.reason.startswith(
        "Node 22, 2 shards merged: lines 80% < 90% (coverageThreshold.global in the app's Jest config)")
    bare = {k: v for k, v in one.items() if "jest-config" not in k}
    with pytest.raises(UsageError, match="no directory holds tests/unit/jest-config/jest-config.json"):
        unit_tests.merge_report(TESTS, [("one", bare), ("two", {k: v for k, v in two.items() if k not in one})])


# merge-coverage

NO_THRESHOLDS = json.dumps({"configs": [{}], "globalConfig": {}, "version": "30.5.2"}).encode()


def shard_dir(major: int, i: int, n: int, root: str, s: list[int], jest_config: bytes = NO_THRESHOLDS
              ) -> dict[str, bytes]:
    """A shard's exported reports: its coverage, and the app's Jest config as the stage read it."""
    prefix = f"tests/unit/node{major}/shard{i}of{n}"
    return {f"{prefix}/coverage-final.json": coverage_json(root, s),
            f"{prefix}/cobertura-coverage.xml": cobertura(root), "tests/unit/jest-config/jest-config.json": jest_config}


def test_merge_coverage_lines_up_shards_that_ran_in_different_directories():
    one = shard_dir(22, 1, 2, "/runner/a/src", [1, 1, 0, 0, 0]) | shard_dir(24, 1, 2, "/runner/a/src", [0, 0, 0, 0, 0])
    two = shard_dir(22, 2, 2, "/runner/b/src", [0, 0, 1, 1, 0]) | shard_dir(24, 2, 2, "/runner/b/src", [0, 0, 0, 0, 0])
    merged = unit_tests.merge_report(TESTS, [("one", one), ("two", two)])
    assert merged.function == "merge_coverage" and merged.passed
    (step,) = merged.steps
    assert step.reason.startswith("Node 22, 2 shards merged: lines 80% >= 80%")  # node22 is configured first


def test_merge_coverage_takes_a_directory_holding_every_shard():
    both = shard_dir(22, 1, 2, "/src", [1, 1, 1, 1, 0]) | shard_dir(22, 2, 2, "/src", [0, 0, 0, 0, 1])
    merged = unit_tests.merge_report(TESTS, [("all", both)])
    assert merged.steps[0].reason.startswith("Node 22, 2 shards merged: lines 100% >= 80%")


def test_merge_coverage_takes_bare_coverage_directories():
    one = {"coverage-final.json": coverage_json("/src", [1, 1, 1, 1, 0])}
    merged = unit_tests.merge_report(TESTS, [("jest-coverage", one)])
    assert merged.steps[0].reason.startswith("coverage: lines 80% >= 80%")


@pytest.mark.parametrize(("directories", "message"), [
    ([], "merge-coverage: pass --shards DIR once for each shard's exported reports directory"),
    ([("d1", {})], "merge-coverage: d1 holds no coverage-final.json; pass the directory that"),
    ([("d1", shard_dir(22, 1, 2, "/src", [1]))], "merge-coverage: got shards 1/2; pass each shard of one run exactly once"),
    ([("d1", shard_dir(22, 1, 2, "/src", [1])), ("d2", shard_dir(22, 1, 2, "/src", [1]))],
     "got shards 1/2, 1/2; pass each shard"),
    ([("d1", shard_dir(22, 1, 2, "/src", [1])), ("d2", shard_dir(22, 2, 3, "/src", [1]))], "got shards 1/2, 2/3"),
    ([("d1", shard_dir(22, 1, 2, "/src", [1])), ("d2", shard_dir(24, 2, 2, "/src", [1]))],
     "no Node major's unit-test coverage is in every directory"),
    ([("d1", shard_dir(22, 1, 2, "/src", [1])), ("d2", {"coverage-final.json": b"{}"})],
     "mix sharded unit-test reports and bare coverage files"),
    ([("d1", {"a/coverage-final.json": b"{}", "b/coverage-final.json": b"{}"})],
     "d1 holds 2 coverage-final.json files outside tests/unit/node<major>"),
])
def test_merge_coverage_refuses_what_it_cannot_merge(directories: list, message: str):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        unit_tests.merge_report(TESTS, directories)


# the real Jest on the sample app (local executor)

PLANTED_TEST = """import { slugify } from "@/lib/format";

describe("planted", () => {
  it("fails on purpose", () => {
    expect(slugify("A b")).toBe("a_b");
  });
});
"""


def run_reports(app: Path, out: Path, *extra: str) -> dict:
    """`bayon reports --function unit-tests` on `app` into `out`; the report as JSON."""
    assert main(["reports", "--source", str(app), "--function", "unit-tests", "-o", str(out), *extra]) == 0
    return json.loads((out / "report.json").read_text())


def steps_of(report_json: dict) -> dict[str, dict]:
    return {s["id"]: s for s in report_json["steps"]}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    base = tmp_path_factory.mktemp("unit-clean")
    return run_reports(copy_app(base / "coagent"), base / "reports"), base / "reports"


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    base = tmp_path_factory.mktemp("unit-sharded")
    app = copy_app(base / "coagent")
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text().replace("tests:\n", "tests:\n  shards: 2\n"))
    return run_reports(app, base / "reports"), base / "reports"


def jest_summary(reports: Path, step_id: str) -> str:
    """Jest's own totals (coverage-summary.json) in the coverage step's wording."""
    total = json.loads((reports / step_id / "coverage-summary.json").read_text())["total"]
    return ", ".join(f"{m} {total[m]['pct']:g}%" for m in ("lines", "branches", "functions", "statements"))


def figures(reason: str) -> str:
    """The coverage step's figures without the thresholds: `lines 99.41%, branches ...`."""
    return ", ".join(part.split(" >= ")[0].split(" < ")[0] for part in reason.split(": ", 1)[1].split(", "))


@pytest.mark.tools
def test_the_clean_sample_app_passes_with_jests_own_coverage_figures(clean: tuple[dict, Path]):
    report_json, reports = clean
    assert report_json["passed"] is True and report_json["findings"] == []
    steps = steps_of(report_json)
    for major in (20, 22, 24):  # the sample app's matrix: every major runs here too (those the host lacks from npm)
        step = steps[f"tests/unit/node{major}"]
        assert step["status"] == "passed" and step["tool_version"], step["reason"]
    coverage = steps["tests/coverage"]
    assert coverage["status"] == "passed" and coverage["reason"].startswith("Node 20: lines ")
    assert figures(coverage["reason"]) == jest_summary(reports, "tests/unit/node20")
    for name in ("junit.xml", "jest-results.json", "coverage-final.json", "coverage-summary.json"):
        assert (reports / "tests/unit/node20" / name).is_file(), name


@pytest.mark.tools
def test_a_failing_test_and_a_missed_threshold_are_both_reported(tmp_path: Path):
    app = copy_app(tmp_path / "coagent")
    (app / "__tests__/planted.test.ts").write_text(PLANTED_TEST)
    (app / "pipeline.yaml").write_text((app / "pipeline.yaml").read_text().replace("lines: 80", "lines: 100"))
    out = tmp_path / "report.json"
    assert main(["unit-tests", "--source", str(app), "--format", "json", "-o", str(out)]) == 1
    report_json = json.loads(out.read_text())
    found = {(f["step"], f["rule"], f["file"], f["line"]) for f in report_json["findings"]}
    assert found == {  # on each major of the sample app's matrix (20, 22, 24), all run here
        *((f"tests/unit/node{m}", "jest/failed-test", "__tests__/planted.test.ts", 5) for m in (20, 22, 24)),
        ("tests/coverage", "coverage/lines", None, None),
    }
    steps = steps_of(report_json)
    assert steps["tests/unit/node20"]["status"] == "failed" and steps["tests/coverage"]["status"] == "failed"
    assert "lines 99.41% < 100%" in steps["tests/coverage"]["reason"]


@pytest.mark.tools
def test_a_matrix_no_major_of_which_can_run_here_fails(app: Path, tmp_path: Path):
    (app / "pipeline.yaml").write_text("version: 1\ntests:\n  node_versions: [29]\n")  # no Node 29 on npm (yet)
    out = tmp_path / "report.json"
    assert main(["unit-tests", "--source", str(app), "--format", "json", "-o", str(out)]) == 1
    report_json = json.loads(out.read_text())
    steps = steps_of(report_json)
    install = steps["setup/install/node29"]
    assert install["status"] == "crashed" and "set tests.node_versions (and node) in pipeline.yaml" in install["reason"]
    assert install["reason"].startswith("Node 29 is not on this host (it has Node 20) and could not be brought in")
    assert steps["tests/unit/node29"]["status"] == "skipped"
    assert steps["tests/coverage"]["status"] == "failed"
    assert steps["tests/coverage"]["reason"] == (
        "no configured Node major could run here (configured 29): dependency install failed (setup/install/node29)")


@pytest.mark.tools
def test_two_shards_merge_to_the_unsharded_figures(clean: tuple[dict, Path], sharded: tuple[dict, Path]):
    report_json, reports = sharded
    steps = steps_of(report_json)
    assert steps["tests/unit/node20/shard1of2"]["status"] == steps["tests/unit/node20/shard2of2"]["status"] == "passed"
    coverage = steps["tests/coverage"]["reason"]
    assert coverage.startswith("Node 20, 2 shards merged: ")
    assert figures(coverage) == jest_summary(clean[1], "tests/unit/node20")
    assert jest_summary(reports, "tests/unit/node20/shard1of2") != figures(coverage)  # one shard alone is partial


@pytest.mark.tools
def test_shard_runs_merged_by_merge_coverage_give_the_unsharded_figures(clean: tuple[dict, Path], tmp_path: Path,
                                                                       app: Path):
    for i in (1, 2):
        shard_report = run_reports(app, tmp_path / f"shard{i}", "--shard", f"{i}/2")
        coverage = steps_of(shard_report)["tests/coverage"]
        assert coverage["status"] == "skipped" and shard_report["passed"] is True
    out = tmp_path / "merged.json"
    shards = f"{tmp_path / 'shard1'},{tmp_path / 'shard2'}"
    assert main(["merge-coverage", "--source", str(app), "--shards", shards, "--format", "json", "-o", str(out)]) == 0
    (step,) = json.loads(out.read_text())["steps"]
    assert step["reason"].startswith("Node 20, 2 shards merged: ")
    assert figures(step["reason"]) == jest_summary(clean[1], "tests/unit/node20")


def test_bad_shard_arguments_are_usage_errors(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["unit-tests", "--source", str(app), "--shard", "3/2"]) == 2
    assert capsys.readouterr().err.strip().endswith("--shard 3/2: not a shard; use i/n with 1 <= i <= n, e.g. --shard 1/2")
    assert main(["reports", "--source", str(app), "--function", "quality", "--shard", "1/2", "-o", str(tmp_path)]) == 2
    assert "only unit-tests runs by shard" in capsys.readouterr().err
    assert main(["merge-coverage", "--source", str(app), "--shards", str(tmp_path / "nowhere")]) == 2
    assert "not a directory; pass each shard's exported reports directory" in capsys.readouterr().err
