"""The optional Snyk step, verified offline only: its judge on output in the shape of `snyk test --json` (crafted, see
fixtures/security/README.md), and that it runs only when a snyk-token is given."""

from __future__ import annotations

from datetime import date

import pytest
from chain import find
from apps import FIXTURES
from dagger import dag

from ci.stages.security import snyk
from ci.stages.security.audit import Policy
from ci.config import AllowlistEntry
from ci.executors.dagger import DaggerExecutor
from ci.core.executor import missing_secrets
from ci.core.step import ReportError, StepRun

FIX = FIXTURES / "security"
HASH = "0123456789abcdef" + "f" * 48


def policy(*allowlist: AllowlistEntry) -> Policy:
    return Policy("high", allowlist, date(2026, 11, 27), False)


def recorded(name: str, exit_code: int = 1) -> StepRun:
    return StepRun(exit_code=exit_code, stdout=(FIX / name).read_text())


def test_issues_become_findings_by_package_version():
    judgement = snyk.judge(recorded("snyk-test.json"), policy())
    assert judgement.status == "failed"
    rows = {f.rule: (f.severity, f.extra["level"], f.extra["package"]) for f in judgement.findings}
    assert rows == {"SNYK-JS-NEXT-9000001": ("error", "critical", "next"),
                    "SNYK-JS-POSTCSS-9000002": ("warning", "moderate", "postcss"),  # Snyk's medium
                    "SNYK-JS-BOWSER-9000003": ("warning", "low", "bowser")}
    postcss = next(f for f in judgement.findings if f.extra["package"] == "postcss")
    assert postcss.extra["paths"] == ["coagent@0.1.0 > next@16.4.6 > postcss@8.5.23",
                                      "coagent@0.1.0 > next@16.4.6 > styled-jsx@5.1.6 > postcss@8.5.23"]
    assert judgement.reason == "prod: 3 advisories (1 critical, 1 moderate, 1 low); fails from high up"


def test_the_allowlist_takes_snyk_ghsa_or_cve_ids():
    for advisory in ("SNYK-JS-NEXT-9000001", "GHSA-5v6w-7x8c-9f2g", "cve-2026-90001"):
        entry = AllowlistEntry(id=advisory, reason="behind our auth proxy", expires=date(2027, 1, 1))
        judgement = snyk.judge(recorded("snyk-test.json"), policy(entry))
        assert judgement.status == "passed", advisory


def test_snyk_unable_to_test_is_unavailable():
    judgement = snyk.judge(recorded("snyk-error.json", exit_code=2), policy())
    assert judgement.status == "unavailable"
    assert judgement.reason.startswith("dependencies were NOT audited: Snyk answered: Authentication failed.")
    with pytest.raises(ReportError, match="neither a report nor an error"):
        snyk.judge(StepRun(exit_code=2, stdout='{"ok": false}'), policy())
    with pytest.raises(ReportError, match="not one JSON object"):
        snyk.judge(StepRun(exit_code=1, stdout="[]"), policy())


def test_the_step_pins_snyk_and_needs_its_token():
    step = snyk.step(policy(), 22)
    assert step.argv == ("npx", "--yes", f"snyk@{snyk.VERSION}", "test", "--json")
    assert step.secrets == {"SNYK_TOKEN": "snyk-token"} and step.needs_secrets
    assert step.env["BAYON_RUN_ID"] == "{run_id}" and step.finding_codes == {1, 2}
    assert missing_secrets(step, {"npm-token"}) == "no snyk-token secret given (pass --snyk-token to run it)"
    assert missing_secrets(step, {"snyk-token"}) is None


def test_in_dagger_the_token_is_a_secret_variable_and_its_absence_skips(monkeypatch):
    monkeypatch.setenv("SNYK_TOKEN", "planted-snyk-token")
    token = dag.secret("env://SNYK_TOKEN")
    step = snyk.step(policy(), 22)
    with_token = DaggerExecutor(dag.host().directory("examples/coagent"), {"snyk-token": token})
    assert with_token.unavailable_reason(step) is None
    ctr = with_token.step_container(with_token.install_container(22), step, HASH)
    assert [f.args for f in find(ctr, "withSecretVariable")] == [{"name": "SNYK_TOKEN", "secret": token}]
    assert not find(ctr, "withEnvVariable", name="SNYK_TOKEN")
    without = DaggerExecutor(dag.host().directory("examples/coagent"))
    assert without.unavailable_reason(step).startswith("no snyk-token secret given")
