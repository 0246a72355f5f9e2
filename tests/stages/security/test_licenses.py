"""License policy on SPDX expressions, the judge on the sample app's recorded tree, and a real install of local
packages (AGPL fails, LGPL warns, `(MIT OR GPL-3.0-only)` passes) served by a local registry."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from apps import FIXTURES, run_local
from npm_registry import Registry

from ci.stages.security import licenses
from ci.config import LicenseException, Licenses
from ci.core.scheduler import judge_run, run_steps
from ci.stages.security.licenses import ALLOWED, DENY, UNKNOWN, WARN, Package, Policy, declared, evaluate, packages
from ci.core.step import ReportError, StepRun

FIX = FIXTURES / "security"
DEFAULT = Policy.of(Licenses())


@pytest.mark.parametrize(("expression", "verdict", "why"), [
    ("MIT", ALLOWED, "MIT is allowed"),
    ("(MIT OR GPL-3.0-only)", ALLOWED, "MIT is allowed"),
    ("mit or gpl-3.0-only", ALLOWED, "MIT is allowed"),
    ("GPL-3.0-only OR AGPL-3.0-only", DENY, "AGPL-3.0-only matches deny AGPL-*"),
    ("MIT AND GPL-3.0-only", DENY, "GPL-3.0-only matches deny GPL-*"),
    ("AGPL-3.0-only", DENY, "AGPL-3.0-only matches deny AGPL-*"),
    ("GPL-2.0+", DENY, "GPL-2.0-or-later matches deny GPL-*"),
    ("LGPL-3.0-or-later", WARN, "LGPL-3.0-or-later matches warn LGPL-*"),
    ("Apache-2.0 AND LGPL-3.0-or-later AND MIT", WARN, "LGPL-3.0-or-later matches warn LGPL-*"),
    ("AGPL-3.0-only OR LGPL-2.1-only", WARN, "LGPL-2.1-only matches warn LGPL-*"),
    ("(MIT OR Apache-2.0) AND BSD-3-Clause", ALLOWED, "Apache-2.0 is allowed"),
    ("Apache-2.0 WITH LLVM-exception", ALLOWED, "Apache-2.0 is allowed"),
    ("GPL-2.0-only WITH Classpath-exception-2.0", DENY, "GPL-2.0-only matches deny GPL-*"),
    ("MIT OR Foo-License", ALLOWED, "MIT is allowed"),
    ("Foo-License", UNKNOWN, "Foo-License is not an SPDX license id"),
    ("MIT AND", UNKNOWN, "'MIT AND' is not an SPDX expression"),
    ("UNLICENSED", UNKNOWN, "'UNLICENSED' is not an open-source license"),
    ("SEE LICENSE IN LICENSE.md", UNKNOWN, "'SEE LICENSE IN LICENSE.md' is not an open-source license"),
    (None, UNKNOWN, "no license declared"),
])
def test_expressions_under_the_default_policy(expression, verdict, why):
    outcome = evaluate(expression, DEFAULT)
    assert outcome.verdict == verdict and outcome.why.startswith(why)


def test_allow_overrides_and_restricts():
    strict = Policy.of(Licenses(allow=["MIT", "LGPL-*"]))
    assert evaluate("LGPL-2.1-only", strict).verdict == ALLOWED
    assert evaluate("ISC", strict).why == "ISC is not in the allow list" and evaluate("ISC", strict).verdict == WARN
    assert evaluate("GPL-3.0-only", strict).verdict == DENY
    assert evaluate("GPL-3.0-only", Policy.of(Licenses(allow=["GPL-3.0-only"]))).verdict == ALLOWED


def test_declared_reads_current_and_legacy_fields():
    assert declared({"license": " MIT "}) == "MIT"
    assert declared({"license": {"type": "ISC", "url": "x"}}) == "ISC"
    assert declared({"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}) == "MIT OR Apache-2.0"
    assert declared({"licenses": ["MIT", "Public Domain"]}) == "MIT OR (Public Domain)"
    assert declared({"license": ""}) is None and declared({}) is None


def test_packages_skip_the_app_and_merge_copies():
    nodes = [{"name": "app", "version": "1.0.0", "location": "", "license": "UNLICENSED"},
             {"name": "ws-lib", "version": "1.0.0", "location": "packages/ws-lib"},
             {"name": "b", "version": "1.0.0", "location": "node_modules/b", "license": "MIT"},
             {"name": "a", "version": "2.0.0", "location": "node_modules/x/node_modules/a", "dev": True},
             {"name": "b", "version": "1.0.0", "location": "node_modules/c/node_modules/b", "license": "MIT"}]
    assert packages(json.dumps(nodes)) == [Package("a", "2.0.0", None, True, "node_modules/x/node_modules/a"),
                                           Package("b", "1.0.0", "MIT", False, "node_modules/b")]
    with pytest.raises(ReportError, match="not a list"):
        packages('{"error": {}}')
    with pytest.raises(ReportError, match="not JSON"):
        packages("npm error")


def sample_tree(policy: Policy):
    return licenses.judge(StepRun(exit_code=0, stdout=(FIX / "npm-query-prod.json").read_text()), policy)


def test_the_sample_app_passes_with_the_libvips_warning():
    judgement = sample_tree(DEFAULT)
    assert judgement.status == "passed"
    assert judgement.reason == "55 package(s) checked: 0 error(s), 1 warning(s)"
    (only,) = judgement.findings
    assert (only.rule, only.severity, only.file) == (
        "license/warn", "warning", "node_modules/@img/sharp-libvips-linux-x64/package.json")
    assert only.message == ("@img/sharp-libvips-linux-x64@1.3.4 (prod) is licensed LGPL-3.0-or-later: "
                            "LGPL-3.0-or-later matches warn LGPL-*")


def test_an_exception_accepts_with_its_reason():
    exceptions = [LicenseException(package="@img/sharp-libvips-linux-x64", reason="dynamically linked by sharp")]
    (only,) = sample_tree(Policy.of(Licenses(exceptions=exceptions))).findings
    assert (only.rule, only.severity) == ("license/exception", "info")
    assert only.message.endswith("accepted: dynamically linked by sharp")


def test_a_deny_list_of_our_own_fails():
    judgement = sample_tree(Policy.of(Licenses(deny=["CC-BY-*"])))
    assert judgement.status == "failed"
    assert [(f.extra["package"], f.rule) for f in judgement.findings if f.severity == "error"] == [
        ("caniuse-lite", "license/denied")]


def test_unknown_warns_or_fails_per_config():
    run = StepRun(exit_code=0, stdout=json.dumps([{"name": "x", "version": "1.0.0", "location": "node_modules/x"}]))
    assert licenses.judge(run, DEFAULT).findings[0].severity == "warning"
    failing = licenses.judge(run, Policy.of(Licenses(unknown="fail")))
    assert failing.status == "failed"
    assert failing.findings[0].message == "x@1.0.0 (prod) is licensed (none): no license declared"


def test_step_lists_production_or_every_package():
    assert licenses.step(Licenses(), 22).argv == ("npm", "query", ".prod")
    assert licenses.step(Licenses(include_dev=True), 22).argv == ("npm", "query", "*")


def test_npm_query_failing_is_a_crash_with_its_stderr():
    run = StepRun(exit_code=1, stdout='{"error": {"code": "EINVALIDSELECTOR"}}', stderr="npm error code EINVALIDSELECTOR")
    judgement = judge_run(licenses.step(Licenses(), 22), run)
    assert judgement.status == "crashed" and "npm error code EINVALIDSELECTOR" in judgement.reason


# real: an app installing local packages from a local registry

LOCAL_PACKAGES = {"agpl-lib": "AGPL-3.0-only", "lgpl-lib": "LGPL-2.1-only", "dual-lib": "(MIT OR GPL-3.0-only)",
                  "plain-lib": "MIT", "gpl-dev-tool": "GPL-3.0-only"}


def tiny_app(root: Path, registry: Registry) -> Path:
    for name, license in LOCAL_PACKAGES.items():
        registry.add_package(name, "1.0.0", license)
    app = root / "tiny-app"
    app.mkdir()
    deps = {name: "1.0.0" for name in LOCAL_PACKAGES if name != "gpl-dev-tool"}
    (app / "package.json").write_text(json.dumps({"name": "tiny-app", "version": "1.0.0", "private": True,
                                                  "license": "AGPL-3.0-only", "dependencies": deps,
                                                  "devDependencies": {"gpl-dev-tool": "1.0.0"}}))
    (app / ".npmrc").write_text(f"registry={registry.url}\n")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--package-lock-only"], cwd=app, check=True,
                   capture_output=True)
    return app


@pytest.mark.tools
def test_installed_local_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYON_CACHE_DIR", str(tmp_path / "cache"))  # this app's install is not worth keeping

    async def both(executor):
        prod = await run_steps("licenses", executor, [licenses.step(Licenses(), 22)])
        every = await run_steps("licenses", executor, [licenses.step(Licenses(include_dev=True), 22)])
        return prod, every

    with Registry() as registry:
        prod, every = run_local(both, tiny_app(tmp_path, registry))
    assert [s.status for s in prod.steps] == ["passed", "failed"]  # the install, then the licenses
    assert {f.extra["package"]: (f.rule, f.severity) for f in prod.findings} == {
        "agpl-lib": ("license/denied", "error"), "lgpl-lib": ("license/warn", "warning")}  # dual-lib passes via MIT
    agpl = next(f for f in prod.findings if f.extra["package"] == "agpl-lib")
    assert agpl.message == "agpl-lib@1.0.0 (prod) is licensed AGPL-3.0-only: AGPL-3.0-only matches deny AGPL-*"
    assert prod.steps[1].reason == "4 package(s) checked: 1 error(s), 1 warning(s)"  # the app's own AGPL ignored
    dev = next(f for f in every.findings if f.extra["package"] == "gpl-dev-tool")
    assert (dev.severity, dev.extra["scope"]) == ("error", "dev")
