"""Apps nobody here wrote: a planted app with only `jest` (no ESLint, TypeScript, Prettier, Next.js or integration
suite), installed for real with npm, run through `bayon` on the host's Node (its `.nvmrc`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ci.cli.app import main
from ci.executors.local.executor import host_node_major

SOURCE = """function add(a, b) {
  return a + b;
}

module.exports = { add };
"""
UNTESTED = """module.exports = function double(a) {
  return a * 2;
};
"""
TEST = """const { add } = require("../lib/sum.js");

describe("add", () => {
  it("adds", () => {
    expect(add(1, 2)).toBe(3);
  });
});
"""
CONFIG = 'module.exports = {{ collectCoverageFrom: ["lib/**/*.js"], transform: {{}}{extra} }};\n'


@pytest.fixture(scope="module")
def only_jest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app, with its lockfile from a real `npm install` of jest alone."""
    app = tmp_path_factory.mktemp("planted") / "only-jest"
    (app / "lib").mkdir(parents=True)
    (app / "__tests__").mkdir()
    (app / "package.json").write_text(json.dumps({
        "name": "only-jest", "version": "1.0.0", "private": True, "scripts": {"test": "jest"},
        "devDependencies": {"jest": "30.5.2"}}, indent=2))
    (app / ".nvmrc").write_text(f"{host_node_major()}\n")
    (app / "jest.config.js").write_text(CONFIG.format(extra=""))
    (app / "lib" / "sum.js").write_text(SOURCE)
    (app / "__tests__" / "sum.test.js").write_text(TEST)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=app, check=True, capture_output=True)
    shutil.rmtree(app / "node_modules")
    return app


def run(args: list[str], out: Path) -> tuple[int, dict]:
    code = main([*args, "--format", "json", "-o", str(out)])
    return code, json.loads(out.read_text())


@pytest.mark.tools
def test_an_app_with_only_jest_passes_its_unit_tests_with_the_pipelines_junit_report(only_jest: Path, tmp_path: Path):
    assert main(["reports", "--source", str(only_jest), "--function", "unit-tests", "-o", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    steps = {s["id"]: s for s in report["steps"]}
    major = host_node_major()
    assert report["passed"] is True, steps
    assert steps["tests/unit/jest-config"]["reason"] == "no coverageThreshold"
    assert steps[f"tests/unit/node{major}"]["status"] == "passed"  # the matrix is the app's .nvmrc
    suite = ET.parse(tmp_path / f"tests/unit/node{major}/junit.xml").getroot()
    assert (suite.tag, suite.get("tests"), suite.get("failures")) == ("testsuites", "1", "0")
    (case,) = suite.iter("testcase")
    assert (case.get("name"), case.get("file")) == ("add adds", "__tests__/sum.test.js")


@pytest.mark.tools
def test_what_the_app_lacks_is_named_never_a_stack_trace(only_jest: Path, tmp_path: Path):
    code, report = run(["ci", "--source", str(only_jest)], tmp_path / "ci.json")
    steps = {s["id"]: (s["status"], s["reason"]) for s in report["steps"]}
    assert code == 1
    assert steps["quality/lint"] == (
        "crashed", "eslint is not a dependency of the app: add it to devDependencies or set quality.lint: false")
    assert steps["quality/typecheck"] == ("crashed", "typescript is not a dependency of the app: add it to "
                                                     "devDependencies or set quality.typecheck: false")
    assert steps["quality/format"] == ("skipped", "prettier is not a dependency of the app")
    assert steps["tests/integration"] == ("skipped", "the app has no jest.integration.config.mjs "
                                                     "(tests.integration.config): nothing to run")
    assert steps["build/next"] == ("crashed", "next is not a dependency of the app: add it to dependencies")
    assert steps[f"tests/unit/node{host_node_major()}"][0] == steps["tests/coverage"][0] == "passed"


@pytest.mark.tools
def test_the_apps_own_coverage_threshold_is_held_by_jest_and_by_the_gate(only_jest: Path, tmp_path: Path):
    app = tmp_path / "app"
    shutil.copytree(only_jest, app)
    (app / "lib" / "double.js").write_text(UNTESTED)  # functions and lines now 50% covered
    (app / "jest.config.js").write_text(CONFIG.format(extra=", coverageThreshold: { global: { functions: 60 } }"))
    (app / "pipeline.yaml").write_text("tests:\n  coverage: { lines: 40, branches: 0, functions: 40, statements: 40 }\n")
    code, report = run(["unit-tests", "--source", str(app)], tmp_path / "unit.json")
    steps = {s["id"]: s for s in report["steps"]}
    major = host_node_major()
    assert code == 1
    assert steps[f"tests/unit/node{major}"]["status"] == "failed"  # Jest itself, as `npx jest` would
    assert {(f["step"], f["rule"]) for f in report["findings"]} == {
        (f"tests/unit/node{major}", "jest/coverage-threshold"), ("tests/coverage", "coverage/functions")}
    assert "functions 50% < 60% (coverageThreshold.global in the app's Jest config)" in steps["tests/coverage"]["reason"]
