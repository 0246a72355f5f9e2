"""The security stage as a whole: its scanners, its registration (gates, Dagger functions, bayon), its per-run input
in both executors, and the real stage on the sample app (every scanner reporting, whatever the others do)."""

from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest
from chain import find, render
from apps import COAGENT, FIXTURES, run_local
from dagger import dag
from npm_registry import Registry

from ci.stages.security import audit
from ci.cli.commands import write_reports
from ci.pipeline import runner
from ci.pipeline import registry
from ci.stages.security import stage as security
from ci.cli.parser import build_parser
from ci.cli.signature import dagger_functions
from ci.config import load_config
from ci.executors.dagger import DaggerExecutor

HASH = "0123456789abcdef" + "f" * 48
ALL_IDS = ["security/audit/prod", "security/audit/dev", "security/audit/snyk", "security/licenses", "security/sbom",
           "security/secrets", "security/sast"]
WARN = "security:\n  audit:\n    on_unavailable: warn\n"


def test_the_stage_lists_every_scanner():
    config = load_config(None)
    assert [s.id for s in security.steps(config)] == ALL_IDS
    no_dev = load_config("security:\n  audit:\n    include_dev: false\n")
    assert "security/audit/dev" not in [s.id for s in security.steps(no_dev)]
    assert [s.id for s in security.audit_steps(config)] == ALL_IDS[:3]


def test_on_unavailable_warn_lets_only_the_audit_steps_be_unavailable():
    assert security.allowed_unavailable(load_config(None)) == frozenset()
    assert security.allowed_unavailable(load_config(WARN)) == {
        "security/audit/prod", "security/audit/dev", "security/audit/snyk"}


def test_todays_date_reaches_the_allowlist_check():
    text = ("security:\n  audit:\n    allowlist:\n      - id: GHSA-5v6w-7x8c-9f2g\n"
            "        reason: fixed upstream soon\n        expires: 2026-12-31\n")
    config = load_config(text)
    (before,) = security.audit_aggregates(config, date(2026, 12, 31))
    (after,) = security.audit_aggregates(config, date(2027, 1, 1))
    assert before(None)[0].status == "passed" and after(None)[0].status == "failed"


def test_security_is_a_gate_but_not_a_stage_of_ci():
    assert {"security", "audit", "licenses", "sbom"} <= set(registry.GATES)
    assert "security" not in registry.STAGES
    assert not {s.id for s in runner.ci_steps(load_config(None))[0]} & set(ALL_IDS)


def test_the_dagger_functions_and_bayon_commands():
    registered = dagger_functions()
    for name in ("security", "audit", "reports"):
        assert registered[name].cache_policy == "never", name  # advisory data changes without any commit
    for name in ("security", "audit"):
        assert "snyk_token" in registered[name].parameters
    for name in ("licenses", "sbom"):
        assert registered[name].cache_policy is None  # a pure function of the lockfile and the install
    args = build_parser().parse_args(["security", "--source", "app", "--snyk-token", "env://SNYK_TOKEN"])
    assert (args.command, args.snyk_token) == ("security", "env://SNYK_TOKEN")


def test_the_plan_is_deterministic_and_shows_the_run_id_placeholder():
    first = run_local(lambda executor: runner.plan("security", executor), COAGENT)
    assert first == run_local(lambda executor: runner.plan("security", executor), COAGENT)
    steps = {s["id"]: s for s in json.loads(first)}
    assert list(steps) == ALL_IDS
    assert steps["security/audit/prod"]["env"] == {"BAYON_RUN_ID": "{run_id}"}


def test_each_dagger_run_gives_the_audit_exec_a_fresh_input():
    (prod, *_) = security.audit_steps(load_config(None))
    one, two = (DaggerExecutor(dag.host().directory("examples/coagent")) for _ in range(2))
    ctr_one = one.step_container(one.install_container(22), prod, HASH)
    ctr_two = two.step_container(two.install_container(22), prod, HASH)
    assert find(ctr_one, "withEnvVariable", name="BAYON_RUN_ID")[0].args["value"] == one.run_id
    assert one.run_id != two.run_id and render(ctr_one) != render(ctr_two)
    (sbom_step,) = security.sbom_steps(load_config(None))  # a step without the placeholder stays cacheable
    assert render(one.step_container(one.install_container(22), sbom_step, HASH)) == render(
        two.step_container(two.install_container(22), sbom_step, HASH))


# the real stage on the sample app, npm audit pointed at the local registry after the install

def security_report(monkeypatch: pytest.MonkeyPatch, source, registry: Registry):
    async def go(executor):
        await executor.install(22)
        monkeypatch.setenv("npm_config_registry", registry.url)
        return await runner.gate("security", executor)

    return run_local(go, source)


@pytest.mark.tools
def test_every_scanner_reports_and_the_sbom_is_exported(monkeypatch, tmp_path):
    with Registry(json.loads((FIXTURES / "security" / "bulk-advisories.json").read_text())) as registry:
        report = security_report(monkeypatch, COAGENT, registry)
    status = {s.id: s.status for s in report.steps if s.id.startswith("security/")}
    assert set(status) == {*ALL_IDS, "security/audit/allowlist"}  # every scanner reported
    assert {i: status[i] for i in ALL_IDS[:5]} == {
        "security/audit/prod": "failed", "security/audit/dev": "failed", "security/audit/snyk": "skipped",
        "security/licenses": "passed", "security/sbom": "passed"}
    assert not report.passed
    licensing = [f for f in report.findings if f.step == "security/licenses"]
    assert [(f.rule, f.extra["package"]) for f in licensing] == [("license/warn", "@img/sharp-libvips-linux-x64")]
    write_reports(report, tmp_path)  # what `bayon reports --function security` writes
    bom = json.loads((tmp_path / "security" / "sbom" / "sbom.cdx.json").read_text())
    refs = {c["bom-ref"] for c in bom["components"]}
    assert bom["bomFormat"] == "CycloneDX" and {"react@19.3.1", "next@16.4.6"} <= refs and len(refs) > 600
    assert (tmp_path / "security/audit/dev/prod-nodes.json").is_file() and (tmp_path / "report.json").is_file()


@pytest.mark.tools
def test_the_audit_unavailable_fails_only_the_audit_and_warn_lets_it_pass(monkeypatch, app):
    """This machine's registry refuses the advisory POST with 405 (recorded); the local registry replays it."""
    recorded = json.loads((FIXTURES / "security" / "npm-audit-405.json").read_text())
    refusal = (recorded["statusCode"], {"allow": recorded["headers"]["allow"][0]})
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=app, check=True)  # the secrets scan reads the history
    subprocess.run(["git", "add", "-A"], cwd=app, check=True)
    subprocess.run([*git, "commit", "-qm", "app"], cwd=app, check=True)
    with Registry(refusal=refusal) as registry:
        failing = security_report(monkeypatch, app, registry)
        (app / "pipeline.yaml").write_text(WARN)
        warned = security_report(monkeypatch, app, registry)
    for report in (failing, warned):
        status = {s.id: s.status for s in report.steps}
        assert set(ALL_IDS) <= set(status)  # every scanner reported
        assert status["security/audit/prod"] == status["security/audit/dev"] == "unavailable"
        assert status["security/licenses"] == status["security/sbom"] == "passed"
        reasons = [s.reason for s in report.steps if s.status == "unavailable"]
        assert all("HTTP 405 Method Not Allowed" in r and registry.url not in r for r in reasons)
    mine = {*ALL_IDS[:5], "security/audit/allowlist"}  # the secrets scan and SAST have their own tests

    def passes(report) -> bool:
        return all(s.status in ("passed", "skipped") or s.id in report.allowed_unavailable
                   for s in report.steps if s.id in mine)

    assert not passes(failing) and not failing.passed and passes(warned)
    assert {f.severity for f in warned.findings if f.rule == "audit/unavailable"} == {"warning"}
    assert {audit.PROD_ID, audit.DEV_ID} <= warned.allowed_unavailable
