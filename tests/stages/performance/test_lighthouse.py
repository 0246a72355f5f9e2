"""The lighthouse judge on recorded Lighthouse 12.8.2 results (tests/fixtures/lighthouse): medians, spread, the
median run, thresholds with per-URL overrides, budgets, failed audits and the noise-aware baseline; fail-closed on a
missing, failed or unreadable run."""

from __future__ import annotations

import json

import pytest
from apps import FIXTURES

from ci.config import load_config
from ci.core.scheduler import judge_run
from ci.core.step import StepRun
from ci.stages.performance import lighthouse, scores

LHR = FIXTURES / "lighthouse"


def lhr(name: str) -> bytes:
    return (LHR / f"{name}.json").read_bytes()


RECORDED = {"root-desktop-1.report.json": lhr("desktop-1"), "root-desktop-2.report.json": lhr("desktop-2"),
            "root-mobile-1.report.json": lhr("mobile-1"), "root-mobile-2.report.json": lhr("mobile-2")}
"""The sample's `/`, two real runs per form factor (mobile performance 68 and 84 on a loaded machine)."""


def judged(yaml: str = "", files: dict | None = None, runs: int = 2, exit_code: int = 0, stderr: str = ""):
    config = load_config(f"lighthouse:\n  runs: {runs}\n{yaml}")
    (step,) = lighthouse.steps(config)
    return judge_run(step, StepRun(exit_code=exit_code, files=RECORDED if files is None else files, stderr=stderr))


def rules(judgement) -> list[str]:
    return sorted(f.rule for f in judgement.findings)


def test_the_table_has_each_url_form_factor_and_category_with_median_spread_and_median_run():
    judgement = judged()
    (table,) = judgement.tables
    assert table.columns == lighthouse.COLUMNS
    rows = {(r[0], r[1], r[2]): r[3:] for r in table.rows}
    assert len(table.rows) == 8 and set(rows) == {("/", ff, c) for ff in ("desktop", "mobile")
                                                  for c in ("performance", "accessibility", "best-practices", "seo")}
    # the median run's score (of two runs the lower), the spread of both
    assert rows["/", "desktop", "performance"] == (99.0, "99-100", None, 90.0, "root-desktop-1.report")
    assert rows["/", "mobile", "performance"] == (68.0, "68-84", None, 90.0, "root-mobile-1.report")
    assert rows["/", "mobile", "seo"] == (100.0, "100-100", None, 95.0, "root-mobile-1.report")
    assert "2 URL x form factor(s) of the production build, 2 run(s) each, Lighthouse 12.8.2" in judgement.reason
    assert judgement.tool_version == "12.8.2"  # the version that ran, from its results (no npm package of the app)


def test_the_median_runs_score_below_its_threshold_fails_naming_the_url_and_form_factor():
    judgement = judged()
    assert judgement.status == "failed" and rules(judgement) == ["lighthouse/performance"]
    (found,) = judgement.findings
    assert found.message == "http://127.0.0.1:3210/ (mobile): performance 68 (median run) is below 90"
    assert found.extra == {"url": "http://127.0.0.1:3210/", "form_factor": "mobile", "score": 68.0, "threshold": 90.0}


def test_a_url_s_own_thresholds_override_the_defaults():
    judgement = judged("  urls: [{path: /, thresholds: {performance: 65}}]\n")
    assert judgement.status == "passed" and judgement.findings == ()
    assert {r[6] for r in judgement.tables[0].rows if r[2] == "performance"} == {65.0}
    assert {r[6] for r in judgement.tables[0].rows if r[2] == "seo"} == {95.0}


def test_metric_budgets_apply_to_the_median_run():
    judgement = judged("  thresholds: {performance: 0}\n  budgets: {lcp_ms: 1000, tbt_ms: 5000, cls: 0.1}\n")
    (found,) = judgement.findings  # mobile's median run (run 1) has an LCP of 4387 ms; desktop's 969 ms
    assert found.rule == "lighthouse/budget-lcp" and found.extra["form_factor"] == "mobile"
    assert found.message == ("http://127.0.0.1:3210/ (mobile): largest-contentful-paint 4387 is over its budget of "
                             "1000")


def test_the_median_run_is_the_median_performance_score_ties_by_lcp():
    runs = [lighthouse.lhr.parse(data, name) for name, data in RECORDED.items() if "mobile" in name]
    assert [r.scores["performance"] for r in runs] == [68.0, 84.0]
    assert scores.representative(runs) == 0  # of two middles, the lower score
    three = [runs[1], runs[0], runs[0]]
    assert three[scores.representative(three)].scores["performance"] == 68.0  # 68, 68, 84: the middle is a 68
    slow, fast = (lighthouse.lhr.Run("u", "12.8.2", {"performance": 90.0}, {"lcp_ms": lcp}, ()) for lcp in (900, 300))
    assert scores.representative([fast, slow]) == 1  # equal scores: the slower LCP is the lower middle
    assert scores.representative([fast, slow, fast]) == 0  # slow, fast, fast: the middle is the first fast run


def test_failed_audits_that_matter_are_warnings_naming_the_url():
    judgement = judged(files={"root-desktop-1.report.json": lhr("desktop-bad")}, runs=1,
                       yaml="  form_factors: [desktop]\n")
    warnings = {f.rule for f in judgement.findings if f.severity == "warning"}
    assert {"lighthouse/image-alt", "lighthouse/color-contrast", "lighthouse/document-title",
            "lighthouse/meta-description", "lighthouse/errors-in-console", "lighthouse/label", "lighthouse/link-name",
            "lighthouse/button-name", "lighthouse/html-has-lang"} <= warnings
    alt = next(f for f in judgement.findings if f.rule == "lighthouse/image-alt")
    assert alt.message == "http://127.0.0.1:3210/bad.html (desktop): Image elements do not have `[alt]` attributes"
    errors = sorted(f.rule for f in judgement.findings if f.severity == "error")
    assert errors == ["lighthouse/accessibility", "lighthouse/seo"]  # 15 and 73; best practices 93 >= 90


def test_a_clean_page_has_no_audit_warnings():
    assert judged("  thresholds: {performance: 60}\n").findings == ()


@pytest.mark.parametrize("files, reason", [
    ({**RECORDED, "root-mobile-2.report.json": None}, "Lighthouse wrote no root-mobile-2.report.json"),
    ({**RECORDED, "root-desktop-1.report.json": lhr("desktop-404")},
     "root-desktop-1.report.json: Lighthouse reported ERRORED_DOCUMENT_REQUEST: Lighthouse was unable to reliably "
     "load the page"),
    ({**RECORDED, "root-desktop-2.report.json": b"{}"}, "root-desktop-2.report.json is not a Lighthouse result: "
                                                       "missing 'categories'"),
    ({**RECORDED, "root-desktop-2.report.json": b"<html>"}, "root-desktop-2.report.json: Expecting value"),
    ({**RECORDED, "root-mobile-1.report.json": lhr("mobile-1").replace(b'"lighthouseVersion":"12.8.2"',
                                                                        b'"lighthouseVersion":"13.5.0"')},
     "root-mobile-1.report.json comes from Lighthouse 13.5.0, not the pinned 12.8.2; run scripts/setup.sh"),
])
def test_a_missing_failed_or_unreadable_run_crashes_the_step(files, reason):
    judgement = judged(files=files)
    assert judgement.status == "crashed" and judgement.reason.startswith(reason), judgement.reason


def test_a_run_the_script_could_not_make_crashes_with_its_line():
    line = "lighthouse-runs: lighthouse http://app:3000/ (mobile, run 2) failed: exit code 1: Chrome crashed"
    judgement = judged(exit_code=3, stderr=line + "\n")
    assert judgement.status == "crashed" and line in judgement.reason


# The baseline that knows noise

def baseline_of(files: dict, runs: int = 2) -> bytes:
    return lighthouse.new_baseline(files, load_config(f"lighthouse:\n  runs: {runs}\n").lighthouse)


def test_the_measured_baseline_holds_each_score_s_median_and_spread():
    doc = json.loads(baseline_of(RECORDED))
    assert doc["version"] == 1 and doc["lighthouse"] == "12.8.2" and doc["runs"] == 2
    assert doc["scores"]["/"]["mobile"]["performance"] == {"median": 76.0, "min": 68.0, "max": 84.0}
    assert set(doc["scores"]["/"]["desktop"]) == {"performance", "accessibility", "best-practices", "seo"}


def test_planted_noise_inside_the_baseline_spread_never_fails():
    """The baseline's mobile runs scored 68 and 84 (median 76); a run of 68 alone dropped 8 points, more than the
    5 allowed, but 68 is one of the baseline's own runs: noise."""
    files = {**RECORDED, lighthouse.BASELINE: baseline_of(RECORDED)}
    now = {"root-desktop-1.report.json": lhr("desktop-2"), "root-mobile-1.report.json": lhr("mobile-1")}
    judgement = judged("  thresholds: {performance: 0}\n  max_drop: 5\n", {**now, lighthouse.BASELINE: files[lighthouse.BASELINE]}, runs=1)
    assert judgement.status == "passed" and judgement.findings == ()
    rows = {(r[1], r[2]): r for r in judgement.tables[0].rows}
    assert rows["mobile", "performance"][5] == -8.0 and rows["desktop", "performance"][5] == 0.5
    assert "compared with .bayon/baselines/lighthouse.json" in judgement.reason


def test_a_real_drop_outside_both_spreads_fails_with_the_delta():
    before = baseline_of(RECORDED)
    now = {"root-desktop-1.report.json": lhr("desktop-bad"), "root-desktop-2.report.json": lhr("desktop-bad"),
           "root-mobile-1.report.json": lhr("mobile-1"), "root-mobile-2.report.json": lhr("mobile-2"),
           lighthouse.BASELINE: before}
    judgement = judged("  thresholds: {performance: 0, accessibility: 0, best_practices: 0, seo: 0}\n", now)
    regressions = {f.rule: f for f in judgement.findings if f.rule.startswith("lighthouse/regression-")}
    assert set(regressions) == {"lighthouse/regression-accessibility", "lighthouse/regression-seo"}  # -85, -27; BP -7
    found = regressions["lighthouse/regression-accessibility"]
    assert found.severity == "error" and found.extra["delta"] == -85.0 and found.extra["baseline"] == 100.0
    assert found.message.startswith("http://127.0.0.1:3210/bad.html (desktop): accessibility dropped 85 points to 15")


@pytest.mark.parametrize("before, now, regressed", [
    (scores.Spread(90, 88, 92), scores.Spread(70, 68, 72), True),
    (scores.Spread(90, 88, 92), scores.Spread(85, 60, 95), False),  # a drop of 5: within max_drop
    (scores.Spread(90, 70, 92), scores.Spread(75, 74, 76), False),  # 15 down, but inside the baseline's spread
    (scores.Spread(90, 88, 92), scores.Spread(75, 60, 91), False),  # 15 down, but the baseline inside this spread
])
def test_a_regression_is_a_drop_over_max_drop_outside_both_spreads(before, now, regressed):
    assert scores.regressed(before, now, 10) is regressed


def test_an_unreadable_baseline_is_an_error_naming_the_file():
    judgement = judged("  thresholds: {performance: 0}\n", {**RECORDED, lighthouse.BASELINE: b'{"version": 2}'})
    (found,) = judgement.findings
    assert found.rule == "lighthouse/baseline" and found.file == ".bayon/baselines/lighthouse.json"
    assert "not a Lighthouse baseline (version 1); replace it with `bayon lighthouse --update-baseline`" in found.message
