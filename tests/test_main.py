"""The Dagger module's registration, checked offline on the real SDK objects (no engine)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import dagger
import pytest
from apps import COAGENT, FIXTURES
from chain import fields, find, names, render
from dagger import dag
from dagger._exceptions import QueryErrorValue
from dagger.mod import cli as modcli

from ci import Ci
from ci.main import GateFailed
from ci.cli.signature import dagger_functions, from_registration
from ci.core.executor import substitute
from ci.executors.dagger import SOURCE_EXCLUDES, TOOLS_ROOT, DaggerExecutor, reports_dir
from ci.core.errors import UsageError
from ci.pipeline.runner import StepDidNotRun
from ci.stages.quality import eslint

LINT = eslint.step(22, 0)
ESLINT_ARGV = [substitute(a, reports_dir(LINT), TOOLS_ROOT) for a in LINT.argv]
ESLINT_FIX_ARGV = [substitute(a, reports_dir(eslint.fix_step(22, 0)), TOOLS_ROOT) for a in eslint.fix_step(22, 0).argv]


def test_the_entry_point_loads_the_main_object():
    entry = modcli.get_entry_point()
    assert (entry.group, entry.value) == ("dagger.mod", "ci:Ci")
    assert modcli.load_module() is Ci.__dagger_module__


def test_every_function_and_argument_is_documented():
    functions = dagger_functions()
    assert {"ci", "quality", "lint", "typecheck", "format_check", "lint_fix", "format_fix", "reports", "plan"} <= set(functions)
    for name, fn in functions.items():
        assert fn.doc, f"{name} has no docstring"
        for param in fn.parameters.values():
            assert param.doc, f"{name}(--{param.name}) has no Doc()"


def test_every_source_argument_pins_its_inputs():
    for name, fn in dagger_functions().items():
        source = fn.parameters["source"]
        assert source.default_path == ".", name
        assert "**/node_modules" in source.ignore and ".git" in source.ignore, name


def test_the_whole_registration_builds(monkeypatch: pytest.MonkeyPatch):
    """The SDK's own typedef registration runs without raising (bad defaults, unsupported types...)."""

    async def fake_id(self):
        return "module-id"

    monkeypatch.setattr(dagger.Module, "id", fake_id)
    assert asyncio.run(Ci.__dagger_module__._typedefs()) == "module-id"


# The registration is what it was before the move to subpackages (issue 7), but for the fixers' --repo-path and
# --no-cache on the functions whose tools keep caches (issue 8).

NO_CACHE = {"ci", "quality", "lint", "typecheck", "format_check", "lint_fix", "format_fix", "build", "build_output",
            "reports"}


ADDED_FUNCTIONS = {"lighthouse", "validate_infra", "preview_changes", "package", "promote", "deploy", "rollback", "smoke",
                   "history", "accept", "configure_github", "check_approval", "deployment_plan", "route", "init"}
"""Functions added since the layout change (issues 9 and 11); the earlier ones keep their arguments."""
PR_COMMENT = {"github_token", "github_repository", "pull_request", "from_fork"}
"""`ci` comments on the pull request (issue 11)."""
LISTING_DOCS = {("plan", "function"), ("reports", "function")}
"""Arguments whose doc lists the functions they take: it grows with each function added, never losing one."""


def _listed(doc: str) -> set[str]:
    return {word.strip(",.") for word in doc.split(":", 1)[1].replace(" or ", ", ").split()}
LIGHTHOUSE_REPORTS = {"url", "runs"}
"""`reports --function lighthouse` takes lighthouse's --url and --runs (issue 9)."""


def test_functions_and_arguments_are_unchanged_but_for_the_fixers_repo_path_and_no_cache():
    before = json.loads((FIXTURES / "registration-before-layout.json").read_text())
    now = from_registration()
    assert set(before) <= set(now) and set(now) - set(before) <= ADDED_FUNCTIONS
    for name, fn in ((name, fn) for name, fn in now.items() if name in before):
        params = {p["name"]: p for p in fn["parameters"]}
        old = {p["name"]: p for p in before[name]["parameters"]}
        added = set(params) - set(old)
        assert added == ({"repo_path"} if name in ("lint_fix", "format_fix") else set()) | (
            {"no_cache"} if name in NO_CACHE else set()) | (LIGHTHOUSE_REPORTS if name == "reports" else set()) | (
            PR_COMMENT if name == "ci" else set()), name
        now_params = {k: dict(params[k]) for k in old}
        for key in (k for k in old if (name, k) in LISTING_DOCS):
            assert _listed(old[key].pop("doc")) <= _listed(now_params[key].pop("doc")), name
        assert now_params == old, name


# The faces go through the one runner: fixers, outputs and reports, judged the same way in Dagger (offline: the
# engine's answers stubbed at the SDK's leaves, the chains real).

def app_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """The executor reads the sample app's files from disk instead of asking the engine."""

    async def read(self, path: str) -> str | None:
        file = COAGENT / path
        return file.read_text() if file.is_file() else None

    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)


def engine_answers(monkeypatch: pytest.MonkeyPatch, exit_code: int, files: dict[str, str]) -> None:
    """The engine's answers to the leaves `run` awaits: the exit code, empty output, and the report files."""

    async def code(self) -> int:
        return exit_code

    async def text(self) -> str:
        return ""

    async def contents(self) -> str:
        path = fields(self)[-1].args["path"]
        if path.rsplit("/", 1)[-1] in files:
            return files[path.rsplit("/", 1)[-1]]
        raise dagger.QueryError([QueryErrorValue(f"{path}: no such file or directory")], SimpleNamespace(document=""))

    async def sync(self):
        return self

    monkeypatch.setattr(dagger.Container, "exit_code", code)
    monkeypatch.setattr(dagger.Container, "stdout", text)
    monkeypatch.setattr(dagger.Container, "stderr", text)
    monkeypatch.setattr(dagger.Container, "sync", sync)
    monkeypatch.setattr(dagger.File, "contents", contents)


def test_a_crashed_fixer_fails_the_call_with_its_reason(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 2, {})  # ESLint exits 2: it crashed
    with pytest.raises(StepDidNotRun, match=r"^quality/lint-fix crashed: eslint exited with code 2"):
        asyncio.run(Ci().lint_fix(source=dag.directory()))


def test_a_fixer_without_its_report_fails_the_call(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 0, {})  # exit 0 but no eslint.json: fail closed
    with pytest.raises(StepDidNotRun, match="quality/lint-fix crashed"):
        asyncio.run(Ci().lint_fix(source=dag.directory()))


def test_a_fixer_that_ran_returns_changes_rooted_at_repo_path_and_logs_what_it_could_not_fix(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    app_files(monkeypatch)
    left = [{"filePath": "/src/lib/a.ts", "messages": [
        {"ruleId": "no-undef", "severity": 2, "message": "'x' is not defined.", "line": 3, "column": 1}]}]
    engine_answers(monkeypatch, 1, {"eslint.json": json.dumps(left)})
    source = dag.directory()
    changes = asyncio.run(Ci().lint_fix(source=source, repo_path="examples/coagent"))
    assert isinstance(changes, dagger.Changeset)
    # Both sides are rooted at the app's place in the repository: the fixed source, and the source as given.
    assert names(changes) == ["directory", "withDirectory", "changes"]
    fixed = fields(changes)[1].args["source"]
    assert fields(changes)[1].args["path"] == "examples/coagent"
    before = fields(changes)[-1].args["from"]
    assert names(before) == ["directory", "withDirectory"] and fields(before)[1].args["path"] == "examples/coagent"
    assert fields(before)[1].args["source"] == source.filter(exclude=SOURCE_EXCLUDES)
    assert find(fixed, "withExec", args=ESLINT_FIX_ARGV)  # the very exec the runner judged
    assert names(fixed)[-2:] == ["directory", "filter"]
    log = capsys.readouterr().err
    assert "no-undef" in log and "lib/a.ts:3:1" in log and "lint_fix: FAILED" in log


def test_without_repo_path_the_changes_are_rooted_at_the_source(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 0, {"prettier.txt": ""})
    changes = asyncio.run(Ci().format_fix(source=dag.directory()))
    assert names(changes)[-3:] == ["directory", "filter", "changes"]
    assert fields(changes)[-1].args["from"] == dag.directory().filter(exclude=SOURCE_EXCLUDES)


def test_build_output_refuses_a_build_that_exited_non_zero(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 1, {})
    with pytest.raises(StepDidNotRun, match="^build/next .*no out/ to return"):
        asyncio.run(Ci().build_output(source=dag.directory()))


def test_reports_exports_each_steps_report_directory_from_its_container(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 0, {"eslint.json": "[]"})
    directory = asyncio.run(Ci().reports(source=dag.directory(), repo=dag.directory(), function="lint"))
    chain = render(directory)
    assert "withNewFile(path: 'report.json'" in chain and "withNewFile(path: 'report.sarif'" in chain
    (step_dir,) = find(directory, "withDirectory", path="quality/lint")
    reports = step_dir.args["source"]
    assert fields(reports)[-1].args == {"path": "/bayon/reports/quality-lint"}
    assert find(reports, "withExec", args=ESLINT_ARGV)  # read from the container that ran ESLint
    assert "eslint.json" not in chain.split("withDirectory(path: 'quality/lint'")[0]  # not re-sent inline


def test_a_failing_gates_error_starts_with_a_line_of_its_own_so_the_first_annotation_survives_the_sdk_prefix(
        monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    found = [{"filePath": "/src/lib/a.ts", "messages": [
        {"ruleId": "no-undef", "severity": 2, "message": "'x' is not defined.", "line": 3, "column": 1}]}]
    engine_answers(monkeypatch, 1, {"eslint.json": json.dumps(found)})
    with pytest.raises(GateFailed) as failed:
        asyncio.run(Ci().lint(source=dag.directory(), format="github", repo_path="examples/coagent"))
    first, *rest = str(failed.value).split("\n")
    assert first == "lint failed: 1 step(s) not passed, 1 error(s); the report follows"
    assert rest[0] == "::error file=examples/coagent/lib/a.ts,line=3,col=1,title=eslint no-undef::'x' is not defined."
    assert "lint: FAILED" in rest[-2]  # then the whole table


# --repo-path is checked before anything reads the repository: the repository holds the source's package.json there

def repo_files(monkeypatch: pytest.MonkeyPatch, at: dict[str, str]) -> list[str]:
    """The engine's answers to `File.contents` by full path (the repository's files and the step's report files);
    returns the paths asked, in order."""
    asked = []

    async def contents(self) -> str:
        path = fields(self)[-1].args["path"]
        asked.append(path)
        if path in at:
            return at[path]
        raise dagger.QueryError([QueryErrorValue(f"{path}: no such file or directory")], SimpleNamespace(document=""))

    monkeypatch.setattr(dagger.File, "contents", contents)
    return asked


CLEAN_SCAN = json.dumps({"tool": "detect-secrets", "version": "1.5.0", "range": "HEAD", "commits": 4, "files": 40,
                         "path": "examples/coagent", "baseline": None, "accepted": 0, "findings": []})


@pytest.mark.parametrize("repo_path, at, found", [
    ("examples/typo", {}, "no package.json at examples/typo/"),
    ("examples", {"examples/package.json": '{"name": "another-app"}'}, "another package.json than --source's at examples/"),
    ("", {"package.json": '{"name": "the-monorepo"}'}, "another package.json than --source's at its root"),
])
def test_a_repo_path_that_is_not_where_the_source_sits_stops_the_call_before_any_scan(
        monkeypatch: pytest.MonkeyPatch, repo_path: str, at: dict[str, str], found: str):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 0, {})
    asked = repo_files(monkeypatch, at)
    with pytest.raises(UsageError) as stopped:
        asyncio.run(Ci().secrets(source=dag.directory(), repo=dag.directory(), repo_path=repo_path))
    message = str(stopped.value)
    assert message == (f"--repo-path {repo_path or '(none)'}: the repository holds {found}; pass where --source sits "
                       "in the repository (e.g. --repo-path examples/coagent)")
    assert asked == [f"{repo_path}/package.json".lstrip("/")]  # one read, and no scan report asked for


def test_the_repo_path_where_the_source_sits_lets_the_scan_run(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    engine_answers(monkeypatch, 0, {})
    asked = repo_files(monkeypatch, {"examples/coagent/package.json": (COAGENT / "package.json").read_text(),
                                     "/bayon/reports/security-secrets/secrets.json": CLEAN_SCAN})
    text = asyncio.run(Ci().secrets(source=dag.directory(), repo=dag.directory(), repo_path="examples/coagent"))
    assert "secrets: PASSED" in text and "40 file(s)" in text
    assert asked[0] == "examples/coagent/package.json"


def test_build_output_of_a_server_rendered_app_is_one_line_not_a_missing_out(monkeypatch: pytest.MonkeyPatch):
    app_files(monkeypatch)
    sizes = json.loads((FIXTURES / "build" / "turbopack-sizes.json").read_text())
    engine_answers(monkeypatch, 0, {"bundle-sizes.json": json.dumps({**sizes, "output": "server"})})
    with pytest.raises(UsageError, match=r'^build-output: the app is server-rendered \(no output: "export" in '
                                         r"next.config\), so next build writes no out/; [^\n]*$"):
        asyncio.run(Ci().build_output(source=dag.directory()))
    engine_answers(monkeypatch, 0, {"bundle-sizes.json": json.dumps(sizes)})  # a static export: its out/
    out = asyncio.run(Ci().build_output(source=dag.directory()))
    assert fields(out)[-1].name == "directory" and fields(out)[-1].args == {"path": "/src/out"}
