"""The npm audit judges on recorded output, the allowlist rules, and npm audit itself against a local registry.

The recorded reports come from real `npm audit` runs against `tests/registry.py` serving crafted advisories (see
fixtures/security/README.md); the refusal is this machine's real 405, its registry address rewritten.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from apps import COAGENT, FIXTURES, run_local
from npm_registry import Registry

from ci.stages.security import audit
from ci.stages.security import stage as security
from ci.stages.security.audit import DEV_ID, PROD_ID, Policy
from ci.config import AllowlistEntry, load_config
from ci.core.scheduler import run_steps
from ci.core.step import ReportError, StepRun

FIX = FIXTURES / "security"
TODAY = date(2026, 11, 27)
NEXT, SMITHY, POSTCSS, BOWSER, CROSS_SPAWN = ("GHSA-5v6w-7x8c-9f2g", "GHSA-4x9c-f2g3-h4j5", "GHSA-3m4p-5q6r-7v8w",
                                              "GHSA-2c3f-4g5h-6j7m", "GHSA-6g7h-8j9m-2p3q")
PROD_EXPECTED = {"next": (NEXT, "error", "critical"), "@smithy/signature-v4": (SMITHY, "error", "high"),
                 "postcss": (POSTCSS, "warning", "moderate"), "bowser": (BOWSER, "warning", "low")}


def policy(fail_on: str = "high", allowlist: tuple[AllowlistEntry, ...] = (), warn: bool = False) -> Policy:
    return Policy(fail_on, allowlist, TODAY, warn)


def recorded(name: str, exit_code: int = 1, prod_nodes: bool = False) -> StepRun:
    files = {audit.PROD_NODES: (FIX / "prod-nodes.json").read_bytes()} if prod_nodes else {}
    return StepRun(exit_code=exit_code, stdout=(FIX / name).read_text(), files=files)


def table(findings) -> dict[str, tuple[str, str, str]]:
    return {f.extra["package"]: (f.rule, f.severity, f.extra["level"]) for f in findings}


# the production report: one finding per advisory, severities against fail_on

def test_prod_report_has_one_finding_per_severity():
    judgement = audit.judge(recorded("npm-audit-prod.json"), policy(), "prod")
    assert judgement.status == "failed"
    assert table(judgement.findings) == PROD_EXPECTED  # the dependents (@aws-sdk/core, ...) are not findings
    assert judgement.reason == "prod: 4 advisories (1 critical, 1 high, 1 moderate, 1 low); fails from high up"
    smithy = next(f for f in judgement.findings if f.rule == SMITHY)
    assert smithy.file == "package-lock.json" and smithy.extra["scope"] == "prod"
    assert smithy.extra["nodes"] == ["node_modules/@smithy/signature-v4"]
    assert smithy.extra["effects"] == ["@aws-sdk/core", "@aws-sdk/signature-v4-multi-region"]
    assert smithy.message == ("@smithy/signature-v4: Signature V4: header canonicalization allows request smuggling "
                              "(high; vulnerable <5.7.6; no fix available)")


@pytest.mark.parametrize(("fail_on", "errors"), [("low", 4), ("moderate", 3), ("high", 2), ("critical", 1)])
def test_fail_on_sets_the_lowest_failing_level(fail_on, errors):
    judgement = audit.judge(recorded("npm-audit-prod.json"), policy(fail_on), "prod")
    assert sum(f.severity == "error" for f in judgement.findings) == errors
    assert sum(f.severity == "warning" for f in judgement.findings) == 4 - errors


def test_below_fail_on_warns_and_passes():
    judgement = audit.judge(recorded("npm-audit-prod.json"), policy("critical", (allow(NEXT),)), "prod")
    assert judgement.status == "passed"
    assert {f.severity for f in judgement.findings} == {"info", "warning"}


# the dev report: the advisories on packages outside production only

def test_dev_scope_reports_only_packages_outside_production():
    judgement = audit.judge(recorded("npm-audit-dev.json", prod_nodes=True), policy(), "dev")
    assert table(judgement.findings) == {"cross-spawn": (CROSS_SPAWN, "error", "high")}
    assert judgement.findings[0].extra["scope"] == "dev"
    assert judgement.reason.startswith("dev: 1 advisories (1 high)")
    whole = audit.parse(json.loads((FIX / "npm-audit-dev.json").read_text()), policy(), "dev")
    assert len(whole) == 5  # the full tree holds the production advisories too


def test_dev_scope_without_the_production_list_crashes():
    with pytest.raises(ReportError, match="prod-nodes.json"):
        audit.judge(recorded("npm-audit-dev.json"), policy(), "dev")


# the allowlist: info with its reason until it expires; expired entries fail on their own

def allow(advisory: str, expires: date = date(2027, 1, 31), reason: str = "not reachable from our code"
          ) -> AllowlistEntry:
    return AllowlistEntry(id=advisory, reason=reason, expires=expires)


def test_allowlisted_advisories_are_info_with_their_reason():
    entries = (allow(NEXT.lower()), allow("1109003", reason="only signs requests we build"))  # npm's numeric id too
    judgement = audit.judge(recorded("npm-audit-prod.json"), policy(allowlist=entries), "prod")
    assert judgement.status == "passed"
    infos = {f.rule: f.message for f in judgement.findings if f.severity == "info"}
    assert set(infos) == {NEXT, SMITHY}
    assert infos[SMITHY].endswith("; allowlisted until 2027-01-31: only signs requests we build")
    assert judgement.reason.endswith("2 allowlisted; fails from high up")


def test_an_entry_valid_through_today_still_accepts():
    judgement = audit.judge(recorded("npm-audit-prod.json"), policy(allowlist=(allow(NEXT, TODAY),)), "prod")
    assert table(judgement.findings)["next"][1] == "info"


def test_an_expired_entry_no_longer_accepts_and_says_so():
    judgement = audit.judge(recorded("npm-audit-prod.json"), policy(allowlist=(allow(NEXT, date(2026, 11, 26)),)),
                            "prod")
    finding = next(f for f in judgement.findings if f.rule == NEXT)
    assert finding.severity == "error" and finding.message.endswith("; its allowlist entry expired on 2026-11-26")


def test_expired_entries_fail_the_allowlist_check_whatever_was_found():
    rules = policy(allowlist=(allow(NEXT, date(2026, 1, 1), "waiting for 16.5"), allow(SMITHY)))
    (check,) = audit.aggregates(rules)
    result, found = check(None)
    assert (result.id, result.status) == ("security/audit/allowlist", "failed")
    assert result.reason == f"1 of 2 allowlist entries expired: {NEXT}"
    assert [(f.rule, f.severity, f.file) for f in found] == [("audit/allowlist-expired", "error", "pipeline.yaml")]
    assert found[0].message.startswith(f"allowlist entry {NEXT} expired on 2026-01-01 (waiting for 16.5)")
    assert audit.check_allowlist(None, policy(allowlist=(allow(SMITHY),)))[0].status == "passed"
    assert audit.check_allowlist(None, policy())[0].reason == "no allowlist entries"


# the service unreachable: unavailable, never clean; npm's other errors crash

def test_the_recorded_405_is_unavailable_and_fails():
    judgement = audit.judge(recorded("npm-audit-405.json"), policy(), "prod")
    assert judgement.status == "unavailable"
    assert "the advisory service answered HTTP 405 Method Not Allowed" in judgement.reason
    assert "set security.audit.on_unavailable: warn" in judgement.reason
    assert [(f.rule, f.severity) for f in judgement.findings] == [("audit/unavailable", "error")]
    assert "<registry>" not in judgement.reason + judgement.findings[0].message


def test_warn_keeps_unavailable_but_only_warns():
    judgement = audit.judge(recorded("npm-audit-405.json"), policy(warn=True), "dev")
    assert judgement.status == "unavailable" and judgement.findings[0].severity == "warning"
    assert judgement.reason.endswith("(security.audit.on_unavailable is warn)")


def test_a_network_error_is_unavailable_without_the_address():
    judgement = audit.judge(recorded("npm-audit-refused.json"), policy(), "prod")
    assert judgement.status == "unavailable"
    assert "could not be reached (ECONNREFUSED)" in judgement.reason and "127.0.0.1" not in judgement.reason


@pytest.mark.parametrize(("error", "problem"), [
    ({"message": "request to https://registry.example/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo "
                 "ENOTFOUND registry.example"}, "the advisory service could not be reached (ENOTFOUND)"),
    ({"message": "network timeout at: https://registry.example/-/npm/v1/security/advisories/bulk"},
     "the advisory service could not be reached (timed out)"),
    ({"message": "503 Service Unavailable - POST https://registry.example/-/npm/v1/security/advisories/bulk",
      "statusCode": 503}, "the advisory service answered HTTP 503 Service Unavailable"),
    ({"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile."}}, None),
])
def test_service_problems_name_the_cause_not_the_address(error, problem):
    assert audit.service_problem(error) == problem


def test_other_npm_errors_crash():
    with pytest.raises(ReportError, match="npm audit failed: This command requires an existing lockfile"):
        audit.judge(recorded("npm-audit-enolock.json"), policy(), "prod")
    with pytest.raises(ReportError, match="not JSON"):
        audit.judge(StepRun(exit_code=1, stdout="npm error something"), policy(), "prod")


def test_exit_1_with_an_empty_report_crashes():
    data = json.loads((FIX / "npm-audit-prod.json").read_text())
    data["vulnerabilities"], data["metadata"]["vulnerabilities"]["total"] = {}, 0
    assert audit.judge(StepRun(exit_code=0, stdout=json.dumps(data)), policy(), "prod").reason.startswith(
        "prod: no advisories")
    with pytest.raises(ReportError, match="exited with code 1 but reported no vulnerabilities"):
        audit.judge(StepRun(exit_code=1, stdout=json.dumps(data)), policy(), "prod")


# the steps

def test_steps_audit_prod_always_and_dev_on_request():
    rules = policy()
    prod, dev = audit.steps(rules, True, 22)
    assert (prod.id, prod.argv) == (PROD_ID, ("npm", "audit", "--json", "--omit=dev"))
    assert dev.id == DEV_ID and dev.argv[-1] == "{reports}/prod-nodes.json" and dev.outputs == ("prod-nodes.json",)
    assert prod.env == dev.env == {"BAYON_RUN_ID": "{run_id}"}  # a fresh value per run; the plan shows the placeholder
    assert [s.id for s in audit.steps(rules, False, 22)] == [PROD_ID]


# npm audit itself, against the local registry (and once against this machine's)

def audit_run(monkeypatch: pytest.MonkeyPatch, source: Path, registry: str | None, text: str = ""):
    """The audit stage on `source` with npm's registry pointed at `registry` (after the install, which uses the real
    one or the install cache); returns the report and the config."""
    config = load_config(text)

    async def go(executor):
        await executor.install(config.node)
        if registry:
            monkeypatch.setenv("npm_config_registry", registry)
        return await run_steps("audit", executor, security.audit_steps(config, TODAY),
                               security.allowed_unavailable(config),
                               aggregates=security.audit_aggregates(config, TODAY))

    return run_local(go, source)


@pytest.mark.tools
def test_npm_audit_reports_each_severity_per_scope(monkeypatch):
    with Registry(json.loads((FIX / "bulk-advisories.json").read_text())) as registry:
        report = audit_run(monkeypatch, COAGENT, registry.url)
    status = {s.id: s.status for s in report.steps}
    assert status[PROD_ID] == status[DEV_ID] == "failed" and status["security/audit/snyk"] == "skipped"
    assert status["security/audit/allowlist"] == "passed" and not report.passed
    assert table(f for f in report.findings if f.step == PROD_ID) == PROD_EXPECTED
    assert table(f for f in report.findings if f.step == DEV_ID) == {"cross-spawn": (CROSS_SPAWN, "error", "high")}
    asked = [body for method, path, body in registry.requests if method == "POST"]
    assert len(asked) == 2 and sorted("cross-spawn" in body for body in asked) == [False, True]  # prod omits dev
    assert all(registry.url not in f.message for f in report.findings)


@pytest.mark.tools
def test_live_registry(monkeypatch):
    """This machine's registry refuses the advisory POST (405): unavailable. Where a registry serves advisories, the
    step must still be judged on a real report, never crash."""
    report = audit_run(monkeypatch, COAGENT, None)
    prod = next(s for s in report.steps if s.id == PROD_ID)
    if prod.status == "unavailable":
        assert "the advisory service" in prod.reason and not report.passed
    else:
        assert prod.status in ("passed", "failed"), prod.reason
