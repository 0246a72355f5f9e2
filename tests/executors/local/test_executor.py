"""The local executor's environment: a minimal allow-list of the host's, a secret only for the step that names it,
and the same minimal environment for the services it starts (real processes that print what they see)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from apps import run_local

from ci.core.step import Judgement, Service, Step
from ci.executors.local.executor import minimal_env

PLANTED = "planted-token-value-8b"
HOST = {  # name → whether a step sees it
    "PATH": True, "HOME": True, "LANG": True, "LC_ALL": True, "TZ": True, "TMPDIR": True, "https_proxy": True,
    "NO_PROXY": True, "CI": True, "NODE_EXTRA_CA_CERTS": True, "SSL_CERT_FILE": True, "GITHUB_REPOSITORY": True,
    "GITHUB_SHA": True, "RUNNER_TEMP": True, "npm_config_registry": True, "NPM_CONFIG_CAFILE": True,
    "GITHUB_TOKEN": False, "ACTIONS_RUNTIME_TOKEN": False, "RUNNER_SECRET_X": False, "npm_config__authToken": False,
    "npm_config_//npm.example/:_auth": False, "NPM_CONFIG_PASSWORD": False, "npm_config_otp": False,
    "npm_config_key": False, "AWS_SECRET_ACCESS_KEY": False, "SNYK_TOKEN": False, "NODE_OPTIONS": False,
    "BAYON_PLANTED_TOKEN": False, "PYTHONPATH": False, "VIRTUAL_ENV": False,
}


def test_only_the_allow_list_passes_and_no_credential_among_it():
    env = minimal_env({name: "v" for name in HOST})
    assert set(env) == {name for name, passes in HOST.items() if passes}


def test_a_variable_named_by_a_secret_reference_never_passes():
    assert minimal_env({"GITHUB_RUN_ID": "1", "PATH": "/bin"}, secret_vars={"GITHUB_RUN_ID"}) == {"PATH": "/bin"}


# A step that prints its own environment and the one its service (a web server here, moto in the pipeline) sees.
SERVE_ENV = ("import http.server, json, os, sys\n"
             "class H(http.server.BaseHTTPRequestHandler):\n"
             "    def do_GET(self):\n"
             "        body = json.dumps(dict(os.environ)).encode()\n"
             "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
             "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n")
SHOW_ENV = ("import json, os, urllib.request\n"
            "service = json.loads(urllib.request.urlopen(os.environ['ENV_URL'], timeout=10).read())\n"
            "print(json.dumps({'step': dict(os.environ), 'service': service}))\n")
SERVICE = Service(name="env", image="unused", port=0, args=(), local_argv=(sys.executable, "-c", SERVE_ENV, "{port}"),
                  url_env="ENV_URL")


def show_env(step_id: str, secrets: dict[str, str]) -> Step:
    return Step(id=step_id, tool="python", argv=(sys.executable, "-c", SHOW_ENV), judge=lambda run: Judgement("passed"),
                secrets=secrets, services=(SERVICE,), in_repo=True)


def test_a_step_and_its_service_see_the_minimal_environment_and_only_the_step_its_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("BAYON_PLANTED_TOKEN", "GITHUB_TOKEN", "npm_config__authToken", "BAYON_UNRELATED"):
        monkeypatch.setenv(name, PLANTED)
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/coagent")
    secrets = {"npm-token": "env://BAYON_PLANTED_TOKEN", "snyk-token": "env://BAYON_UNRELATED"}

    async def both(executor):
        return await asyncio.gather(executor.run(show_env("security/audit/snyk", {"SNYK_TOKEN": "snyk-token"})),
                                    executor.run(show_env("quality/lint", {})))

    runs = run_local(both, tmp_path, secrets)
    seen = {step_id: json.loads(run.stdout) for step_id, run in zip(("snyk", "lint"), runs)}
    assert seen["snyk"]["step"]["SNYK_TOKEN"] == PLANTED  # named by the step: given to it, under its own name
    for where in (seen["snyk"]["step"], seen["snyk"]["service"], seen["lint"]["step"], seen["lint"]["service"]):
        assert where["GITHUB_REPOSITORY"] == "octo-org/coagent" and where["CI"] == "true"
        assert not {"BAYON_PLANTED_TOKEN", "GITHUB_TOKEN", "npm_config__authToken", "BAYON_UNRELATED", "NPM_TOKEN"} & set(where)
    for where in (seen["snyk"]["service"], seen["lint"]["step"], seen["lint"]["service"]):
        assert PLANTED not in json.dumps(where)


# The acceptance test: app code that tries to read a planted token finds nothing, in a real local run of the
# unit tests (Jest, which also loads next.config through next/jest) and of the build; the install still gets its token.

ENV_SPY = "appendFileSync({path}, JSON.stringify({{ who: {who}, argv: process.argv, env: process.env }}) + \"\\n\");\n"
PLANTED_JEST_TEST = ('/** @jest-environment node */\nimport {{ appendFileSync }} from "node:fs";\n\n'
                     'test("reads whatever environment it was given", () => {{\n  ' + ENV_SPY + '}});\n')
PLANTED_GITHUB, PLANTED_AUTH = "planted-github-token-8b", "planted-npm-auth-8b"


def plant_spies(app: Path, log: Path) -> None:
    """A Jest test and a next.config that append every variable they see to `log`, one JSON line each."""
    path = json.dumps(str(log))
    (app / "__tests__" / "planted-env.test.ts").write_text(PLANTED_JEST_TEST.format(path=path, who='"jest test"'))
    config = app / "next.config.ts"
    config.write_text('import { appendFileSync } from "node:fs";\n' + ENV_SPY.format(path=path, who='"next.config"')
                      + config.read_text())


def plant_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAYON_PLANTED_TOKEN", PLANTED)
    monkeypatch.setenv("GITHUB_TOKEN", PLANTED_GITHUB)
    monkeypatch.setenv("npm_config__authToken", PLANTED_AUTH)


@pytest.mark.tools
def test_app_code_in_the_unit_tests_and_the_build_finds_no_planted_token(
        app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    from ci.cli.app import main

    log = tmp_path / "seen.jsonl"
    plant_spies(app, log)
    plant_tokens(monkeypatch)
    code = main(["ci", "--source", str(app), "--only", "unit_tests,build", "--npm-token", "env://BAYON_PLANTED_TOKEN",
                 "--format", "json"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    ran = {s["id"]: s["status"] for s in report["steps"]}
    assert ran["tests/unit/node20"] in ("passed", "failed") and ran["build/next"] == "passed", (code, ran)
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    who = {(entry["who"], "build" in entry["argv"]) for entry in seen}
    assert {("jest test", False), ("next.config", True), ("next.config", False)} <= who  # build, and next/jest
    for entry in seen:
        assert not {"BAYON_PLANTED_TOKEN", "NPM_TOKEN", "GITHUB_TOKEN", "npm_config__authToken"} & set(entry["env"])
        assert entry["env"]["CI"] == "true"
    for value in (PLANTED, PLANTED_GITHUB, PLANTED_AUTH):
        assert value not in log.read_text() and value not in out + err


@pytest.mark.tools
def test_the_install_alone_gets_the_npm_token_under_its_own_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real `npm ci` of an app without dependencies whose postinstall script records what it sees."""
    monkeypatch.setenv("BAYON_CACHE_DIR", str(tmp_path / "cache"))  # this install is not worth keeping
    plant_tokens(monkeypatch)
    app, log, spy = tmp_path / "tiny", tmp_path / "install.jsonl", tmp_path / "spy.js"
    app.mkdir()
    spy.write_text('const { appendFileSync } = require("fs");\n' + ENV_SPY.format(path=json.dumps(str(log)),
                                                                                   who='"postinstall"'))
    manifest = {"name": "tiny", "version": "1.0.0", "private": True, "scripts": {"postinstall": f"node {spy}"}}
    (app / "package.json").write_text(json.dumps(manifest))
    (app / "package-lock.json").write_text(json.dumps({"name": "tiny", "version": "1.0.0", "lockfileVersion": 3,
                                                       "requires": True, "packages": {"": {
                                                           "name": "tiny", "version": "1.0.0", "hasInstallScript": True}}}))
    result = run_local(lambda executor: executor.install(20), app, {"npm-token": "env://BAYON_PLANTED_TOKEN"})
    assert result.status == "passed", result.reason
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["env"]["NPM_TOKEN"] == PLANTED  # what .npmrc's ${NPM_TOKEN} reads
    assert not {"BAYON_PLANTED_TOKEN", "GITHUB_TOKEN", "npm_config__authToken"} & set(entry["env"])


def test_a_tool_image_step_runs_in_the_source_itself_and_no_install_runs(tmp_path: Path):
    from ci.core.scheduler import run_steps

    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    listing = Step(id="infra/list", tool="python", argv=(sys.executable, "-c", "import os; print(sorted(os.listdir()))"),
                   judge=lambda run: Judgement("passed", reason=run.stdout.strip()), tool_image="python:3.11-slim")
    report = run_local(lambda executor: run_steps("infra", executor, [listing]), tmp_path)
    assert [(s.id, s.status) for s in report.steps] == [("infra/list", "passed")]  # no setup/install/node<major>
    assert report.steps[0].reason == "['template.yaml']"


def test_a_locked_cache_is_used_by_one_step_at_a_time(tmp_path: Path):
    """As the engine's locked cache volumes: two `next build`s writing one Turbopack cache at once corrupt it (seen
    with the suite on two workers). The two steps start together; without the lock their lines interleave."""
    from ci.core.scheduler import run_steps
    from ci.core.step import Cache

    script = ("import time; log = open('c/log', 'a'); log.write('begin\\n'); log.flush(); time.sleep(0.4); "
              "log.write('end\\n')")
    cache = Cache(f"bayon-test-locked-{tmp_path.name}", "c", sharing="locked")
    steps = [Step(id=f"test/{n}", tool="python", argv=(sys.executable, "-c", script), caches=(cache,),
                  judge=lambda run: Judgement("passed"), tool_image="python:3.11-slim") for n in (1, 2)]
    report = run_local(lambda executor: run_steps("test", executor, steps), tmp_path)
    assert [s.status for s in report.steps] == ["passed", "passed"]
    assert (tmp_path / "c" / "log").read_text().split() == ["begin", "end", "begin", "end"]
