"""Offline wiring tests for the Dagger executor, on the real dagger-io lazy objects (no engine, no fake engine).

They assert the structure the engine's layer cache depends on: what the install layer's inputs are, where the source
and secrets enter, the exact argv, and that equal inputs give equal chains.
"""

from __future__ import annotations

import anyio
import dagger
import pytest
from chain import bound_service, fields, find, index, names, render
from dagger import dag
from dagger.client.base import Type

from ci.executors.dagger import (
    MISSING_LOCKFILE,
    SOURCE_EXCLUDES,
    DaggerExecutor,
    install_id,
)
from ci.core.report import StepResult
from ci.core.executor import SOURCE_PLACEHOLDER
from ci.core.sources import SOURCE_IGNORE
from ci.core.step import NPM_MAJOR, Cache, Judgement, Service, Step

HASH = "0123456789abcdef" + "f" * 48
PLANTED = "planted-s3cr3t-value"
NPM_PIN = ["npm", "install", "-g", f"npm@{NPM_MAJOR}"]
NPM_CI = ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"]
INSTALL_PREFIX = {"from", "withEnvVariable", "withExec", "withMountedCache", "withWorkdir", "withFile",
                  "withSecretVariable"}


def source() -> dagger.Directory:
    return dag.host().directory("examples/coagent")


def step(**overrides) -> Step:
    values = dict(id="quality/lint", tool="eslint", judge=lambda run: Judgement("passed"), outputs=("eslint.json",),
                  argv=("node_modules/.bin/eslint", ".", "-o", "{reports}/eslint.json"))
    return Step(**{**values, **overrides})



def clean_exits(monkeypatch, contents=None) -> None:
    """The engine's answers to the leaves `run` awaits: exit 0, empty output, and `contents` for every file read
    (empty by default)."""

    async def exit_code(self):
        return 0

    async def text(self):
        return ""

    monkeypatch.setattr(dagger.Container, "exit_code", exit_code)
    monkeypatch.setattr(dagger.Container, "stdout", text)
    monkeypatch.setattr(dagger.Container, "stderr", text)
    monkeypatch.setattr(dagger.File, "contents", contents or text)

MOTO = Service(name="moto", image="motoserver/moto:5.1.4", port=5000, args=("-H", "0.0.0.0", "-p", "5000"),
               local_argv=("moto_server", "-p", "{port}"), url_env="AWS_ENDPOINT_URL")


# 1. image per Node major, npm pinned before anything app-specific

@pytest.mark.parametrize("major", [20, 22, 24])
def test_base_image_and_npm_pin_per_node_major(major):
    ctr = DaggerExecutor(source()).install_container(major)
    chain = fields(ctr)
    assert chain[0].name == "container"
    assert (chain[1].name, chain[1].args) == ("from", {"address": f"node:{major}-bookworm-slim"})
    pin = index(ctr, "withExec", args=NPM_PIN)
    assert [f.args["args"] for f in chain if f.name == "withExec"][0] == NPM_PIN  # the first exec
    # Only the fixed, app-independent environment sits between the image and the pin.
    assert {f.name for f in chain[2:pin]} == {"withEnvVariable"}
    assert {f.args["name"]: f.args["value"] for f in chain[2:pin]} == {
        "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false", "NEXT_TELEMETRY_DISABLED": "1", "CI": "true",
        "FORCE_COLOR": "0",
        "NPM_CONFIG_CACHE": "/bayon/npm-cache"}
    assert pin < index(ctr, "withMountedCache") < index(ctr, "withFile", path="/src/package.json")


# 2. cache keys and determinism

def test_npm_cache_key_is_the_node_major_only_and_the_cache_stays_shared():
    """npm's cache is content-addressed: every lockfile shares one volume per Node major (issue 8: the key held the
    lock hash, `bayon-npm-0123456789abcdef-node22`, which only threw hits away)."""
    executor = DaggerExecutor(source())
    mount = find(executor.install_container(22), "withMountedCache")[0]
    assert mount.args["path"] == "/bayon/npm-cache"
    cache = mount.args["cache"]
    assert isinstance(cache, dagger.CacheVolume)
    assert render(cache) == "cacheVolume(key: 'bayon-npm-node22')"
    assert "sharing" not in mount.args  # the engine's default, SHARED: npm writes its cache safely at once
    other_app = DaggerExecutor(dag.host().directory("examples/other"))
    assert find(other_app.install_container(22), "withMountedCache")[0].args["cache"] == cache
    assert find(executor.install_container(24), "withMountedCache")[0].args["cache"] != cache


def test_same_inputs_give_equal_plans():
    a, b = DaggerExecutor(source()), DaggerExecutor(source())
    assert a.install_container(22) == b.install_container(22)
    assert render(a.install_container(22)) == render(b.install_container(22))
    base = a.install_container(22)
    s = step(env={"B": "2", "A": "{reports}/x"}, caches=(Cache("next-22", ".next/cache"),), services=(MOTO,))
    assert a.step_container(base, s) == b.step_container(b.install_container(22), s)
    assert render(a.step_container(base, s)) == render(b.step_container(base, s))
    assert a.install_container(22) != DaggerExecutor(dag.host().directory("examples/other")).install_container(22)


# 3. install before source

def test_install_layer_inputs_are_only_manifest_lockfile_npmrc_image_and_cache():
    src = source()
    ctr = DaggerExecutor(src, {"npm-token": dag.secret("env://NPM_TOKEN")}).install_container(22, npmrc=True)
    npm_ci = index(ctr, "withExec", args=NPM_CI)
    before = fields(ctr)[1:npm_ci]
    assert {f.name for f in before} <= INSTALL_PREFIX
    assert [f.args for f in before if f.name == "withExec"] == [{"args": NPM_PIN}]
    copied = {f.args["path"]: f.args["source"] for f in before if f.name == "withFile"}
    assert copied == {f"/src/{n}": src.file(n) for n in ("package.json", "package-lock.json", ".npmrc")}
    assert names(copied["/src/package-lock.json"])[-1] == "file"
    assert not any(f.name == "withDirectory" for f in before)

    mount = index(ctr, "withDirectory", path="/src")
    assert mount > npm_ci and mount == len(fields(ctr)) - 1
    assert fields(ctr)[mount].args == {"path": "/src", "source": src, "exclude": SOURCE_EXCLUDES}
    assert "**/node_modules" in SOURCE_EXCLUDES and ".git" in SOURCE_EXCLUDES


def test_npmrc_is_copied_only_when_present():
    without = DaggerExecutor(source()).install_container(22)
    assert [f.args["path"] for f in find(without, "withFile")] == ["/src/package.json", "/src/package-lock.json"]


# 4. the step exec

def test_step_exec_is_exact_argv_with_reports_dir_and_expect_any():
    executor = DaggerExecutor(source())
    s = step(id="quality/lint", workdir="./backend/../.", env={"REPORT": "{reports}/r.json"})
    ctr = executor.step_container(executor.install_container(22), s)
    last = fields(ctr)[-1]
    assert last.name == "withExec"
    assert last.args == {"args": ["node_modules/.bin/eslint", ".", "-o", "/bayon/reports/quality-lint/eslint.json"],
                         "expect": "ANY"}
    assert find(ctr, "withEnvVariable", name="REPORT")[0].args["value"] == "/bayon/reports/quality-lint/r.json"
    reports = index(ctr, "withDirectory", path="/bayon/reports/quality-lint")
    assert render(fields(ctr)[reports].args["source"]) == "directory"
    assert fields(ctr)[-2].args == {"path": "/src"}


def test_step_workdir_is_under_src():
    executor = DaggerExecutor(source())
    ctr = executor.step_container(executor.install_container(22), step(workdir="backend/"))
    assert fields(ctr)[-2].name == "withWorkdir" and fields(ctr)[-2].args == {"path": "/src/backend"}


# 5. secrets

def test_npm_token_reaches_only_the_install_exec(monkeypatch):
    monkeypatch.setenv("NPM_TOKEN", PLANTED)
    token = dag.secret("env://NPM_TOKEN")
    executor = DaggerExecutor(source(), {"npm-token": token})
    install = executor.install_container(22)
    npm_ci = index(install, "withExec", args=NPM_CI)
    assert fields(install)[npm_ci - 1].args == {"name": "NPM_TOKEN", "secret": token}
    assert fields(install)[npm_ci + 1].name == "withoutSecretVariable"
    assert fields(install)[npm_ci + 1].args == {"name": "NPM_TOKEN"}
    s = step(env={"NODE_ENV": "test"})
    ctr = executor.step_container(install, s)
    assert [f.args["name"] for f in find(ctr, "withSecretVariable")] == ["NPM_TOKEN"]  # the install's, then removed
    for text in (render(install), render(ctr), repr(s.plan()), repr([f.args for f in find(ctr, "withEnvVariable")])):
        assert PLANTED not in text


def test_no_token_no_secret_variable():
    install = DaggerExecutor(source()).install_container(22)
    assert not find(install, "withSecretVariable") and not find(install, "withoutSecretVariable")


def test_step_secrets_are_secret_variables_never_env(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", PLANTED)
    token = dag.secret("env://GITHUB_TOKEN")
    executor = DaggerExecutor(source(), {"github-token": token})
    s = step(secrets={"GH_TOKEN": "github-token", "SLACK_URL": "slack-webhook"})
    ctr = executor.step_container(executor.install_container(22), s)
    assert [f.args for f in find(ctr, "withSecretVariable")] == [{"name": "GH_TOKEN", "secret": token}]
    env_names = {f.args["name"] for f in find(ctr, "withEnvVariable")}
    assert "GH_TOKEN" not in env_names and "SLACK_URL" not in env_names  # a name not supplied is simply not set
    assert PLANTED not in render(ctr)


# 6. services

def test_service_is_bound_before_the_exec_with_its_url():
    executor = DaggerExecutor(source())
    ctr = executor.step_container(executor.install_container(22), step(id="tests/integration", services=(MOTO,)))
    binding, service = bound_service(ctr, "moto")
    assert binding < len(fields(ctr)) - 1
    assert find(ctr, "withEnvVariable", name="AWS_ENDPOINT_URL")[0].args["value"] == "http://moto:5000"
    assert service == [
        ("container", {}),
        ("from", {"address": "motoserver/moto:5.1.4"}),
        ("withExposedPort", {"port": 5000}),
        ("asService", {"args": ["-H", "0.0.0.0", "-p", "5000"], "useEntrypoint": True}),
    ]


# 7. extra caches

def test_extra_caches_are_mounted_with_their_keys():
    executor = DaggerExecutor(source())
    caches = (Cache("bayon-next-0123456789abcdef-node22", ".next/cache"), Cache("jest-cache", "/bayon/jest-cache"))
    ctr = executor.step_container(executor.install_container(22), step(id="build/next", caches=caches))
    mounts = {f.args["path"]: render(f.args["cache"]) for f in find(ctr, "withMountedCache")}
    assert mounts == {
        "/bayon/npm-cache": "cacheVolume(key: 'bayon-npm-node22')",
        "/src/.next/cache": "cacheVolume(key: 'bayon-next-0123456789abcdef-node22')",
        "/bayon/jest-cache": "cacheVolume(key: 'jest-cache')",
    }
    assert index(ctr, "withMountedCache", path="/src/.next/cache") > index(ctr, "withDirectory", path="/src")


def test_single_writer_tool_caches_are_locked_and_the_npm_cache_stays_shared():
    from ci.config import load_config
    from ci.stages.build import nextjs
    from ci.stages.quality import stage as quality

    executor, config = DaggerExecutor(source()), load_config(None)
    for tool_step in [*quality.steps(config), *nextjs.steps(config)]:  # ESLint, tsc, Prettier and Next
        ctr = executor.step_container(executor.install_container(22), tool_step, HASH)
        sharing = {f.args["path"]: f.args.get("sharing") for f in find(ctr, "withMountedCache")}
        assert sharing.pop("/bayon/npm-cache") is None, tool_step.id  # the engine's default: SHARED
        # ESLint's cache is keyed by the source itself and not mounted in Dagger (the exec cache serves that source)
        mounted = [c for c in tool_step.caches if SOURCE_PLACEHOLDER not in c.key]
        assert len(sharing) == len(mounted) and set(sharing.values()) <= {"LOCKED"}, tool_step.id
        assert tool_step.id == "quality/lint" or sharing, tool_step.id
        assert {c["sharing"] for c in tool_step.plan()["caches"]} == {"locked"}, tool_step.id
    shared = step(caches=(Cache("jest-cache", "/bayon/jest-cache"),))
    (mount,) = find(executor.step_container(executor.install_container(22), shared), "withMountedCache",
                    path="/bayon/jest-cache")
    assert "sharing" not in mount.args and shared.plan()["caches"][0]["sharing"] == "shared"


# fixers and report files

def test_changeset_diffs_the_fixed_source_against_the_input():
    src = source()
    executor = DaggerExecutor(src)
    fixer = step(id="quality/lint-fix", argv=("node_modules/.bin/eslint", ".", "--fix"), outputs=(), writes_source=True)
    changes = executor.changeset(fixer, HASH)
    assert isinstance(changes, dagger.Changeset)
    assert names(changes)[-4:] == ["withExec", "directory", "filter", "changes"]
    assert fields(changes)[-1].args["from"] == src.filter(exclude=SOURCE_EXCLUDES)
    with pytest.raises(ValueError, match="does not write the source"):
        executor.changeset(step(), HASH)


def test_report_directory_holds_the_files():
    directory = DaggerExecutor.report_directory({"b/junit.xml": b"<x/>", "a.json": b"{}"})
    assert render(directory) == ("directory.withNewFile(path: 'a.json', contents: '{}')"
                                 ".withNewFile(path: 'b/junit.xml', contents: '<x/>')")


# 8. async methods without an engine: fail fast, never hang, run() never raises

@pytest.mark.anyio
async def test_read_source_file_without_engine_raises_connection_error():
    # Raising (not None) is deliberate: None means "the file does not exist" and would e.g. select default config.
    with pytest.raises(dagger.ClientConnectionError):
        await DaggerExecutor(source()).read_source_file("pipeline.yaml")


@pytest.mark.anyio
async def test_install_without_engine_is_crashed_and_memoized():
    executor = DaggerExecutor(source())
    result = await executor.install(22)
    assert (result.id, result.tool, result.status) == ("setup/install/node22", "npm", "crashed")
    assert "engine" in result.reason
    assert await executor.install(22) is result
    assert install_id(20) == "setup/install/node20"


@pytest.mark.anyio
async def test_run_without_engine_returns_an_error_instead_of_raising():
    run = await DaggerExecutor(source()).run(step())
    assert run.exit_code is None and run.error and "engine" in run.error
    assert run.root == "/src"


@pytest.mark.anyio
async def test_a_failing_step_is_reported_not_raised():
    executor = DaggerExecutor(source())
    # Seed the install memo with a base (what a passed install stores) to reach the step's own awaits.
    executor._installs[22] = (StepResult(install_id(22), "npm", "passed"), executor.install_container(22))
    run = await executor.run(step(workdir="backend"))
    assert run.exit_code is None and run.error.startswith("ClientConnectionError:") and "engine" in run.error
    assert run.root == "/src/backend" and run.started_s >= 0 and run.duration_s >= 0


@pytest.mark.anyio
async def test_a_step_over_its_timeout_is_reported(monkeypatch):
    executor = DaggerExecutor(source())
    executor._installs[22] = (StepResult(install_id(22), "npm", "passed"), executor.install_container(22))

    async def hang(self):  # stands in for an exec that never finishes (the only stubbed leaf in this file)
        await anyio.sleep(30)

    monkeypatch.setattr(dagger.Container, "exit_code", hang)
    run = await executor.run(step(timeout_s=0.05))
    assert run.exit_code is None and run.error == "timed out after 0.05 s" and run.duration_s < 5


@pytest.mark.anyio
async def test_a_step_that_ran_against_a_service_names_it_and_its_image(monkeypatch):
    executor = DaggerExecutor(source())
    executor._installs[22] = (StepResult(install_id(22), "npm", "passed"), executor.install_container(22))

    clean_exits(monkeypatch)
    run = await executor.run(step(id="tests/integration", services=(MOTO,)))
    assert run.error is None and run.services == ({"name": "moto", "image": "motoserver/moto:5.1.4"},)
    assert (await executor.run(step())).services == ()


@pytest.mark.anyio
async def test_missing_lockfile_is_a_crashed_install(monkeypatch):
    executor = DaggerExecutor(source())

    async def read(path):
        return '{"name": "app"}' if path == "package.json" else None

    monkeypatch.setattr(executor, "read_source_file", read)
    result = await executor.install(22)
    assert result.status == "crashed" and result.reason == MISSING_LOCKFILE


@pytest.mark.anyio
async def test_a_failed_npm_ci_shows_npms_own_error_lines(monkeypatch):
    from types import SimpleNamespace

    from apps import COAGENT, FIXTURES
    from dagger._exceptions import QueryErrorValue

    recorded = (FIXTURES / "npm" / "ci-out-of-sync.txt").read_text()  # real `npm ci`, the lockfile out of sync
    executor = DaggerExecutor(source())

    async def read(path):
        file = COAGENT / path
        return file.read_text() if file.is_file() else None

    async def exec_failed(self):  # the engine's answer to the install layer (the only stubbed leaf here)
        error = QueryErrorValue("process \"npm ci\" did not complete successfully: exit code: 1", extensions={
            "_type": "EXEC_ERROR", "cmd": NPM_CI, "exitCode": 1, "stdout": "", "stderr": recorded})
        raise dagger.ExecError([error], SimpleNamespace(document=""))

    monkeypatch.setattr(executor, "read_source_file", read)
    monkeypatch.setattr(dagger.Container, "sync", exec_failed)
    result = await executor.install(22)
    assert (result.status, result.exit_code) == ("crashed", 1)
    assert result.reason.splitlines() == [
        "`npm ci` exited with code 1: `npm ci` can only install packages when your package.json and package-lock.json "
        "or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.",
        "Missing: left-pad@1.3.0 from lock file"]


def test_unavailable_reason_is_none_for_any_major():
    executor = DaggerExecutor(source())
    assert executor.name == "dagger"
    assert all(executor.unavailable_reason(step(node_major=m)) is None for m in (18, 20, 22, 24))


# 9. a Python tool's own image, in the repository (the secrets scan, SAST)

def tool_steps():
    from ci.stages.security import sast
    from ci.stages.security import secrets as secrets_scan
    from ci.config import load_config

    config = load_config(None)
    return secrets_scan.steps(config, "main")[0], sast.steps(config)[0]


def in_repo_executor(secrets=None) -> DaggerExecutor:
    return DaggerExecutor(source(), secrets, repo=dag.host().directory("."), repo_path="examples/coagent")


@pytest.mark.parametrize("which, pin", [(0, "detect-secrets==1.5.0"), (1, "semgrep==1.185.0")])
def test_a_python_tool_is_installed_pinned_before_the_repository_with_its_history(which, pin):
    executor = in_repo_executor()
    tool_step = tool_steps()[which]
    ctr = executor.step_container(executor.repo_base(tool_step), tool_step)
    chain = fields(ctr)
    assert (chain[1].name, chain[1].args) == ("from", {"address": "python:3.11-slim-bookworm"})
    execs = [f.args["args"] for f in chain if f.name == "withExec"]
    assert execs[:3] == [["apt-get", "update", "-qq"],
                         ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "git"],
                         ["pip", "install", "--no-cache-dir", "--disable-pip-version-check",
                          "--root-user-action=ignore", pin]]
    mount = index(ctr, "withDirectory", path="/repo")
    assert mount > max(i for i, f in enumerate(chain) if f.name == "withExec" and f.args["args"] in execs[:3])
    assert chain[mount].args == {"path": "/repo", "source": executor.repo}  # no exclude: .git comes along
    assert not find(ctr, "withDirectory", path="/src") and "npm" not in render(ctr)
    assert chain[-2].args == {"path": "/repo/examples/coagent"}


def test_the_scanners_and_rules_are_written_into_the_image_and_run_with_the_exact_argv():
    from ci.core.executor import tool_script

    executor = in_repo_executor()
    secrets_step, sast_step = tool_steps()
    ctr = executor.step_container(executor.repo_base(secrets_step), secrets_step)
    assert fields(ctr)[-1].args == {"args": [
        "python3", "/bayon/tools/secrets-scan.py", "--output", "/bayon/reports/security-secrets/secrets.json",
        "--baseline", ".secrets.baseline", "--base", "main"], "expect": "ANY"}
    (script,) = find(ctr, "withNewFile", path="/bayon/tools/secrets-scan.py")
    assert script.args["contents"] == tool_script("secrets-scan.py")
    ctr = executor.step_container(executor.repo_base(sast_step), sast_step)
    written = {f.args["path"] for f in find(ctr, "withNewFile")}
    assert written == {"/bayon/tools/sast-scan.py", "/bayon/tools/semgrep/typescript.yaml"}
    assert fields(ctr)[-1].args["args"][:6] == ["python3", "/bayon/tools/sast-scan.py", "--rules",
                                                "/bayon/tools/semgrep", "--rules-if-present", ".bayon/semgrep"]


def test_no_secret_reaches_the_scanners_and_equal_inputs_give_equal_plans(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", PLANTED)
    executor = in_repo_executor({"github-token": dag.secret("env://GITHUB_TOKEN"), "npm-token": dag.secret("env://X")})
    for tool_step in tool_steps():
        ctr = executor.step_container(executor.repo_base(tool_step), tool_step)
        assert not find(ctr, "withSecretVariable") and not find(ctr, "withEnvVariable")
        assert PLANTED not in render(ctr)
        again = in_repo_executor()
        assert render(ctr) == render(again.step_container(again.repo_base(tool_step), tool_step))


def test_the_repository_argument_keeps_git_history():
    from ci.cli.signature import dagger_functions
    from ci.core.sources import REPO_IGNORE

    for name in ("secrets", "sast", "security"):
        repo = dagger_functions()[name].parameters["repo"]
        assert repo.default_path == "/" and list(repo.ignore) == list(REPO_IGNORE), name
    assert not [p for p in REPO_IGNORE if ".git" in p.split("/")]


@pytest.mark.anyio
async def test_the_repo_path_is_checked_once_however_many_steps_read_the_repository(monkeypatch):
    from apps import COAGENT

    manifest = (COAGENT / "package.json").read_text()
    asked = []

    async def contents(self):  # the engine's answers: the repository's package.json, then empty reports
        asked.append(fields(self)[-1].args["path"])
        return manifest

    clean_exits(monkeypatch, contents)
    executor = in_repo_executor()
    async with anyio.create_task_group() as group:
        for tool_step in tool_steps():  # the secrets scan and SAST, at once
            group.start_soon(executor.run, tool_step)
    assert asked.count("examples/coagent/package.json") == 1  # the repository's; the source's is read once too
    assert asked.count("package.json") == 1


# 10. secrets kept to the step that needs them, on every step of `ci` and `security`

def test_each_secret_value_is_only_in_the_one_secret_variable_that_needs_it():
    from apps import COAGENT
    from ci.config import load_config
    from ci.pipeline.registry import steps_of

    npm, snyk = "planted-npm-value-8b", "planted-snyk-value-8b"
    executor = in_repo_executor({"npm-token": dag.set_secret("npm-token", npm),
                                 "snyk-token": dag.set_secret("snyk-token", snyk)})
    config = load_config((COAGENT / "pipeline.yaml").read_text())
    steps = {s.id: s for function in ("ci", "security") for s in steps_of(function, config)}
    assert {"security/audit/snyk", "tests/unit/node20", "build/next", "security/secrets", "security/sast"} <= set(steps)
    for s in steps.values():
        ctr = executor.step_container(executor.repo_base(s), s) if s.in_repo else executor.installed_step(s, HASH)
        holding = {value: [(i, f.name, f.args.get("name")) for i, f in enumerate(fields(ctr)) if value in _text(f.args)]
                   for value in (npm, snyk)}
        npm_ci = None if s.in_repo else index(ctr, "withExec", args=NPM_CI)
        # npm's: only in the install's secret variable, removed right after `npm ci` (no source, no install: none)
        assert holding[npm] == ([] if s.in_repo else [(npm_ci - 1, "withSecretVariable", "NPM_TOKEN")]), s.id
        assert s.in_repo or fields(ctr)[npm_ci + 1].args == {"name": "NPM_TOKEN"}
        # Snyk's: only in the Snyk step's own secret variable
        snyk_vars = [(name, var) for _, name, var in holding[snyk]]
        assert snyk_vars == ([("withSecretVariable", "SNYK_TOKEN")] if s.id == "security/audit/snyk" else []), s.id


def _text(args: dict) -> str:
    """A selection's arguments as text, nested Dagger objects (a Secret: its setSecret call) rendered in place."""
    return " ".join(render(v) if isinstance(v, Type) else repr(v) for v in args.values())


def test_a_tool_image_step_runs_on_the_source_after_its_tool_layers_without_any_install():
    executor = DaggerExecutor(source())
    tool = step(id="infra/tool", tool_image="python:3.11-slim-bookworm", tool_install=(("pip", "install", "x==1"),))
    assert not tool.needs_install and step().needs_install
    ctr = executor.step_container(executor.tool_base(tool), tool)
    chain = fields(ctr)
    assert (chain[1].name, chain[1].args) == ("from", {"address": "python:3.11-slim-bookworm"})
    mount = index(ctr, "withDirectory", path="/src")
    assert index(ctr, "withExec", args=["pip", "install", "x==1"]) < mount
    assert chain[mount].args["source"] is executor.source and chain[mount].args["exclude"] == list(SOURCE_IGNORE)
    assert "npm" not in render(ctr) and not find(ctr, "withMountedCache")


def test_the_deployment_plans_history_step_runs_git_over_the_repository_without_pip():
    from ci.delivery import plan_history

    executor = in_repo_executor()
    history = plan_history.step("a" * 40, "b" * 40)
    ctr = executor.step_container(executor.repo_base(history), history)
    execs = [f.args["args"] for f in fields(ctr) if f.name == "withExec"]
    assert execs[:2] == [["apt-get", "update", "-qq"],
                         ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "git"]]
    assert not any(args[0] == "pip" for args in execs)
    assert fields(ctr)[-1].args["args"] == [
        "python3", "/bayon/tools/release-history.py", "--head", "a" * 40, "--base", "b" * 40, "--lockfile",
        "package-lock.json", "--output", "/bayon/reports/plan-history/release-history.json"]
    assert index(ctr, "withDirectory", path="/repo") >= 0 and fields(ctr)[-2].args == {"path": "/repo/examples/coagent"}
