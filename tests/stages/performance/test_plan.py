"""The lighthouse step's Dagger wiring, offline on the real dagger-io objects (no engine): the Chromium image and its
tool layers, the app's production build as a service bound before the exec, never cached, no secret in any argv;
and its plan."""

from __future__ import annotations

import json

import anyio
import dagger
import pytest
from apps import COAGENT
from chain import bound_service, fields, find, index, names, render
from dagger import dag
from dagger.client.base import Type

from ci.cli.signature import dagger_functions
from ci.config import load_config
from ci.core.report import StepResult
from ci.executors.dagger import SOURCE_ROOT, TOOLS_ROOT, DaggerExecutor, install_id, reports_dir
from ci.pipeline import runner
from ci.stages.performance import lighthouse

PLANTED = "planted-npm-value-lh9"
CONFIG = load_config((COAGENT / "pipeline.yaml").read_text())
(STEP,) = lighthouse.steps(CONFIG)


def executor() -> DaggerExecutor:
    return DaggerExecutor(dag.host().directory("examples/coagent"), {"npm-token": dag.set_secret("npm-token", PLANTED)})


def container(ex: DaggerExecutor, step=STEP) -> dagger.Container:
    app = ex.prepared(step.node_major) if step.app_services else None
    return ex.step_container(ex.tool_base(step), step, "0" * 64, app)


def test_the_step_runs_in_a_node_image_with_debian_s_chromium_and_the_pinned_lighthouse_before_the_source():
    ctr = container(executor())
    assert fields(ctr)[:2] == fields(dag.container().from_("node:22-bookworm-slim"))
    execs = [f.args["args"] for f in find(ctr, "withExec")]
    assert execs[:3] == [["apt-get", "update", "-qq"],
                         ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
                         ["npm", "install", "-g", "--no-audit", "--no-fund", "lighthouse@12.8.2"]]
    assert index(ctr, "withExec", args=execs[2]) < index(ctr, "withDirectory", path=SOURCE_ROOT)
    assert "npm" not in " ".join(execs[-1][:1]) and execs[-1][:2] == ["node", f"{TOOLS_ROOT}/lighthouse-runs.mjs"]
    assert execs[-1][2:] == [reports_dir(STEP), ".bayon/baselines/lighthouse.json", "3", "desktop,mobile", "root=/"]


def test_the_app_is_built_on_its_install_then_served_on_its_port_and_bound_before_the_exec():
    ex = executor()
    ctr = container(ex)
    binding, service = bound_service(ctr, "app")
    assert binding < len(fields(ctr)) - 1 and names(ctr)[-1] == "withExec"
    assert find(ctr, "withEnvVariable", name="BAYON_LIGHTHOUSE_URL")[0].args["value"] == "http://app:3000"
    execs = [args["args"] for name, args in service if name == "withExec"]
    assert execs == [["npm", "install", "-g", "npm@11"], ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"],
                     ["node_modules/.bin/next", "build"]]  # the app's own install, then its build
    chain = [name for name, _ in service]
    source = max(i for i, (name, args) in enumerate(service) if name == "withDirectory" and args["path"] == SOURCE_ROOT)
    assert source < chain.index("withNewFile") < len(chain) - 3 and chain[-3] == "withExec"
    assert service[-2:] == [("withExposedPort", {"port": 3000}),
                            ("asService", {"args": ["node", f"{TOOLS_ROOT}/serve-build.mjs", "3000", "0.0.0.0"],
                                           "useEntrypoint": True})]
    script = next(args for name, args in service if name == "withNewFile")
    assert script["path"] == f"{TOOLS_ROOT}/serve-build.mjs" and "createServer" in script["contents"]


def test_never_cached_the_run_id_in_the_env_and_the_function_registered_cache_never():
    ex = executor()
    (run_id,) = find(container(ex), "withEnvVariable", name="BAYON_RUN_ID")
    assert run_id.args["value"] == ex.run_id and find(container(executor()), "withEnvVariable", name="BAYON_RUN_ID")[
        0].args["value"] != ex.run_id
    assert dagger_functions()["lighthouse"].cache_policy == "never"
    assert dagger_functions()["reports"].cache_policy == "never"


def _args_text(obj: Type) -> list[str]:
    """Every argv of the chain and of the services bound in it."""
    out = []
    for f in fields(obj):
        if f.name in ("withExec", "asService"):
            out.append(" ".join(f.args["args"]))
        for value in f.args.values():
            if isinstance(value, Type):
                out += _args_text(value)
    return out


def test_no_secret_in_any_argv_the_npm_token_only_in_the_install_s_secret_variable():
    ctr = container(executor())
    assert not [argv for argv in _args_text(ctr) if PLANTED in argv]
    _, service = bound_service(ctr, "app")
    holding = [(name, args.get("name")) for name, args in service if PLANTED in render_args(args)]
    assert holding == [("withSecretVariable", "NPM_TOKEN")]
    assert PLANTED not in " ".join(f"{f.name}{f.args}" for f in fields(ctr) if f.name != "withServiceBinding")


def render_args(args: dict) -> str:
    return " ".join(render(v) if isinstance(v, Type) else repr(v) for v in args.values())


def test_a_deployed_site_has_no_build_and_no_service():
    (step,) = lighthouse.steps(CONFIG, "https://staging.example.com")
    ctr = container(executor(), step)
    assert not find(ctr, "withServiceBinding") and step.needs.package is None
    assert find(ctr, "withEnvVariable", name="BAYON_LIGHTHOUSE_URL")[0].args["value"] == "https://staging.example.com"
    assert not [argv for argv in _args_text(ctr) if "next" in argv.split()[0]]


def test_the_plan_shows_the_served_build_and_the_chromium_layers():
    class Files:
        name = "files"

        async def read_source_file(self, path):
            file = COAGENT / path
            return file.read_text() if file.is_file() else None

    (plan,) = json.loads(anyio.run(runner.plan, "lighthouse", Files()))
    assert plan["image"] == "node:22-bookworm-slim" and plan["tool_install"][1][-1] == "chromium"
    assert plan["services"] == [{"name": "app", "image": "(the app's install)", "port": 3000,
                                 "url_env": "BAYON_LIGHTHOUSE_URL", "build": ["node_modules/.bin/next", "build"],
                                 "args": ["node", "{tools}/serve-build.mjs", "{port}", "{host}"]}]
    assert plan["env"] == {"BAYON_RUN_ID": "{run_id}"}


def test_the_plan_lists_the_setup_commands_the_served_build_stands_on():
    class Files:
        name = "files"

        async def read_source_file(self, path):
            if path == "pipeline.yaml":
                return "setup: [npx next typegen]\n"
            file = COAGENT / path
            return file.read_text() if file.is_file() else None

    setup, step = json.loads(anyio.run(runner.plan, "lighthouse", Files()))
    assert (setup["id"], setup["argv"]) == ("setup/commands/0/node22", ["sh", "-c", "npx next typegen"])
    assert step["id"] == "performance/lighthouse"


@pytest.mark.anyio
async def test_run_binds_the_service_on_the_install_the_scheduler_ran_and_names_it(monkeypatch):
    ex = executor()
    ex._installs[22] = (StepResult(install_id(22), "npm", "passed"), ex.install_container(22))

    async def zero(self):
        return 0

    async def empty(self):
        return ""

    for leaf, answer in (("exit_code", zero), ("stdout", empty), ("stderr", empty)):
        monkeypatch.setattr(dagger.Container, leaf, answer)
    monkeypatch.setattr(dagger.File, "contents", empty)
    run = await ex.run(STEP)
    assert run.error is None and run.services == ({"name": "app", "image": "(the app's install)"},)
    ran = ex._ran[STEP.id][1]
    _, service = bound_service(ran, "app")
    assert ("withExec", {"args": ["node_modules/.bin/next", "build"]}) in service


@pytest.mark.anyio
async def test_a_failed_install_is_the_step_s_error_not_a_service_without_an_app():
    ex = executor()
    ex._installs[22] = (StepResult(install_id(22), "npm", "crashed", reason="npm ci exited 1"), None)
    run = await ex.run(STEP)
    assert run.exit_code is None and run.error == "setup/install/node22 crashed: npm ci exited 1"
