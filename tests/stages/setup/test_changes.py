"""Docs-only skip: parsing git's output and matching docs patterns (pure), the git step on real repositories built
here, `ci --base` end to end through the local executor, and the git step's Dagger wiring (offline)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import pytest
from chain import fields, find, index
from dagger import dag

from ci.stages.setup import changes
from ci.pipeline import runner
from ci.pipeline.docs_only import detect as run_detect
from ci.stages.setup.changes import Changes, check_revision, docs_only, glob_regex, is_docs, parse, summary
from ci.cli.app import main
from ci.cli.signature import dagger_functions
from ci.executors.dagger import REPO_ROOT, DaggerExecutor
from ci.core.errors import CouldNotRun, UsageError
from ci.executors.local.executor import LocalExecutor
from ci.core.step import StepRun
import gitrepo
from apps import ROOT, copy_app
from gitrepo import git

PATTERNS = ("**/*.md", "docs/**")
APP = "examples/coagent/"
SCHEMA = json.loads((ROOT / "ci" / "schemas" / "report.schema.json").read_text())


# 1. parsing and matching (pure)

def test_parse_reads_the_prefix_line_then_nul_separated_paths():
    out = "examples/coagent/\nexamples/coagent/README.md\0docs/a b.md\0examples/coagent/README.md\0"
    assert parse(out, "main") == Changes("main", APP, ("docs/a b.md", "examples/coagent/README.md"))
    assert parse("\n", "main") == Changes("main", "", ())
    assert parse("sub\nsub/x.ts\0", "main").prefix == "sub/"


@pytest.mark.parametrize("pattern, path, matches", [
    ("**/*.md", "README.md", True),
    ("**/*.md", "docs/guide/intro.md", True),
    ("**/*.md", "notes.mdx", False),
    ("*.md", "README.md", True),
    ("*.md", "docs/README.md", False),
    ("docs/**", "docs/a.png", True),
    ("docs/**", "docs/deep/er/a.ts", True),
    ("docs/**", "mydocs/a.md.ts", False),
    ("docs/**", "docs", False),
    ("lib/?.ts", "lib/a.ts", True),
    ("lib/?.ts", "lib/ab.ts", False),
    ("a+b/(x).md", "a+b/(x).md", True),
])
def test_globs_span_directories_only_with_double_star(pattern, path, matches):
    assert bool(glob_regex(pattern).match(path)) is matches


def test_paths_inside_the_app_match_relative_to_the_app_and_outside_relative_to_the_root():
    assert is_docs("examples/coagent/docs/diagram.png", APP, PATTERNS)  # docs/** inside the app
    assert is_docs("docs/handbook.txt", APP, PATTERNS)  # docs/** at the repository root
    assert is_docs("README.md", APP, PATTERNS)
    assert not is_docs("examples/coagent/lib/format.ts", APP, PATTERNS)
    assert not is_docs("ci/main.py", APP, PATTERNS)  # the pipeline itself changed: not docs
    assert not is_docs("examples/other/docs.ts", APP, PATTERNS)
    assert not is_docs("examples/coagent/docs/x.md", APP, ())  # no patterns: nothing is docs


def test_docs_only_names_the_base_and_the_paths():
    only_docs = Changes("origin/main", APP, ("README.md", "examples/coagent/docs/x.png"))
    assert docs_only(only_docs, PATTERNS) == "docs-only change against origin/main: README.md, examples/coagent/docs/x.png"
    assert summary(only_docs, PATTERNS) == "2 docs-only path(s) changed against origin/main: skipping tests and build"


def test_a_mixed_change_runs_everything_and_names_the_code_paths():
    mixed = Changes("origin/main", APP, ("README.md", "examples/coagent/lib/a.ts"))
    assert docs_only(mixed, PATTERNS) is None
    assert summary(mixed, PATTERNS) == "2 path(s) changed against origin/main, not only docs: examples/coagent/lib/a.ts"


def test_an_empty_diff_runs_everything():
    empty = Changes("HEAD", APP, ())
    assert docs_only(empty, PATTERNS) is None
    assert summary(empty, PATTERNS) == "no changes against HEAD: running everything"


def test_a_long_list_of_paths_is_shortened():
    many = Changes("main", "", tuple(f"doc{i}.md" for i in range(8)))
    assert docs_only(many, PATTERNS).endswith("doc0.md, doc1.md, doc2.md, doc3.md, doc4.md and 3 more")


@pytest.mark.parametrize("ref", ["--output=/x", "-p", "main branch", "a\tb", "x\x00y"])
def test_a_ref_that_could_be_an_option_or_holds_blanks_is_refused(ref):
    with pytest.raises(UsageError, match="not a git revision"):
        check_revision(ref)


def test_the_git_step_gets_the_ref_as_an_argument_never_inside_the_script():
    step = changes.step("origin/main", PATTERNS)
    assert step.argv[:2] == ("sh", "-c") and step.argv[3:] == ("sh", "origin/main")
    assert "origin/main" not in step.argv[2]
    assert step.in_repo and step.image == changes.GIT_IMAGE and not step.image.endswith(":latest")
    assert step.plan()["image"] == "alpine/git:2.52.0" and step.plan()["in_repo"] is True


def test_the_all_zero_sha_of_a_new_branch_runs_everything_without_git():
    class NoRun:
        async def run(self, step):
            raise AssertionError("git must not run for the all-zero sha")

    result, reason = asyncio.run(run_detect(NoRun(), "0" * 40, PATTERNS))
    assert reason is None and result.status == "skipped" and "new branch" in result.reason


# 2. the git step on real repositories (git on this host, through the local executor)

def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the app in a subdirectory (examples/coagent) and one commit on `main`."""
    root = gitrepo.init(tmp_path / "repo")
    rels = ("README.md", "ci/main.py", APP + "README.md", APP + "lib/a.ts", APP + "package.json")
    gitrepo.commit(root, {rel: rel + "\n" for rel in rels}, "one")
    git(root, "checkout", "-qb", "feature")
    return root


def detect(root: Path, base: str = "main", source: Path | None = None, **executor_args) -> tuple:
    """`run_detect` through a LocalExecutor on the app of the repository at `root` (or on `source`)."""
    async def go():
        async with LocalExecutor(source or root / APP, **executor_args) as executor:
            return await run_detect(executor, base, PATTERNS)

    return asyncio.run(go())


def commit(repo: Path, *rels: str) -> None:
    gitrepo.commit(repo, {rel: "changed\n" for rel in rels})


def test_a_commit_touching_only_docs_is_docs_only(repo: Path):
    commit(repo, APP + "README.md", "README.md")
    result, reason = detect(repo)
    assert reason == "docs-only change against main: README.md, examples/coagent/README.md"
    assert result.status == "passed" and result.id == "setup/changes" and result.duration_s > 0


def test_a_commit_touching_code_runs_everything(repo: Path):
    commit(repo, APP + "README.md", APP + "lib/a.ts")
    result, reason = detect(repo)
    assert reason is None and "not only docs: examples/coagent/lib/a.ts" in result.reason


def test_a_change_to_the_pipeline_outside_the_app_runs_everything(repo: Path):
    commit(repo, "ci/main.py")
    assert detect(repo)[1] is None


def test_uncommitted_and_untracked_work_counts(repo: Path):
    commit(repo, "README.md")
    write(repo, APP + "lib/a.ts", "edited, not committed\n")
    assert detect(repo)[1] is None
    git(repo, "checkout", "--", APP + "lib/a.ts")
    write(repo, APP + "lib/new.ts", "untracked\n")
    assert "examples/coagent/lib/new.ts" in detect(repo)[0].reason


def test_a_rename_lists_both_sides(repo: Path):
    git(repo, "mv", APP + "lib/a.ts", APP + "lib/a.md")
    git(repo, "commit", "-qm", "rename")
    result, reason = detect(repo)
    assert reason is None and "examples/coagent/lib/a.ts" in result.reason


def test_the_diff_starts_at_the_merge_base(repo: Path):
    git(repo, "checkout", "-q", "main")
    commit(repo, APP + "lib/a.ts")  # main moved on with code; the feature branch only touched docs
    git(repo, "checkout", "-q", "feature")
    commit(repo, APP + "README.md")
    assert detect(repo)[1] == "docs-only change against main: examples/coagent/README.md"


def test_an_empty_diff_runs_everything_for_real(repo: Path):
    result, reason = detect(repo, "HEAD")
    assert reason is None and result.reason == "no changes against HEAD: running everything"


def test_a_given_repository_and_repo_path_place_the_app_as_dagger_does(repo: Path):
    commit(repo, APP + "docs/x.txt")
    assert detect(repo, repo=repo, repo_path=APP)[1] == "docs-only change against main: examples/coagent/docs/x.txt"


def test_a_repo_path_where_the_app_is_not_is_a_usage_error_before_git_runs(repo: Path):
    with pytest.raises(UsageError, match=r"^--repo-path examples/: the repository holds no package.json at "
                                         r"examples/; pass where --source sits in the repository"):
        detect(repo, repo=repo, repo_path="examples/")


def test_an_unknown_ref_is_a_one_line_usage_error(repo: Path):
    with pytest.raises(UsageError) as info:
        detect(repo, "origin/nope")
    message = str(info.value)
    assert message.startswith("--base origin/nope: no commit origin/nope in this repository;") and "\n" not in message
    assert "fetch-depth: 0" in message


def test_a_base_without_a_merge_base_is_a_usage_error(repo: Path):
    git(repo, "checkout", "-q", "--orphan", "unrelated")
    git(repo, "commit", "-qm", "a history of its own")
    with pytest.raises(UsageError, match="--base main: no merge base of main and HEAD; pass a branch"):
        detect(repo)


def test_an_app_outside_any_repository_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "app").mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # whatever holds the test's tmp dir is not searched
    with pytest.raises(UsageError, match="--base main: not a git repository"):
        detect(tmp_path, source=tmp_path / "app")


def test_git_that_cannot_run_is_could_not_run():
    class NoGit:
        async def run(self, step):
            return StepRun(exit_code=None, error="`sh` was not found")

    with pytest.raises(CouldNotRun, match="git could not run"):
        asyncio.run(run_detect(NoGit(), "main", PATTERNS))


# 3. `ci --base` end to end on the sample app (the local executor, real git and real tools)

@pytest.fixture
def app_repo(tmp_path: Path) -> Path:
    """The sample app in examples/coagent of a fresh repository, one commit on main, a branch `feature`."""
    root = gitrepo.init(tmp_path / "repo")
    copy_app(root / "examples" / "coagent")
    gitrepo.commit(root, {"README.md": "# repo\n"}, "one")
    git(root, "checkout", "-qb", "feature")
    return root


def run_ci(root: Path, tmp_path: Path, *flags: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["ci", "--source", str(root / APP), "--format", "json", "-o", str(out), *flags])
    return code, json.loads(out.read_text())


@pytest.mark.tools
def test_a_docs_only_change_skips_every_test_and_build_step(app_repo: Path, tmp_path: Path):
    commit(app_repo, APP + "README.md", "docs/guide.md")
    code, report = run_ci(app_repo, tmp_path, "--base", "main")
    assert code == 0 and report["passed"]
    jsonschema.validate(report, SCHEMA)
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["setup/changes"]["status"] == "passed"
    gated = [s for s in steps.values() if s["id"].startswith(("tests/", "build/"))]
    assert gated, "ci has test and build steps"
    for step in gated:
        assert step["status"] == "skipped", step
        assert step["reason"] == "docs-only change against main: docs/guide.md, examples/coagent/README.md"
    quality = [s for s in steps.values() if s["id"].startswith("quality/")]
    assert quality and all(s["status"] == "passed" for s in quality)
    assert {s["name"]: s["status"] for s in report["stages"]}["quality"] == "passed"
    assert report["critical_path"][-1]["id"].startswith("quality/")


@pytest.mark.tools
def test_a_code_change_does_not_skip_for_docs(app_repo: Path, tmp_path: Path):
    commit(app_repo, APP + "lib/extra.ts")
    code, report = run_ci(app_repo, tmp_path, "--base", "main", "--only", "quality")
    steps = {s["id"]: s for s in report["steps"]}
    assert "not only docs: examples/coagent/lib/extra.ts" in steps["setup/changes"]["reason"]
    assert all(s["reason"].startswith("not in --only") for s in steps.values() if s["id"].startswith("tests/"))


def test_a_bad_base_exits_2_with_one_line(app_repo: Path, capsys: pytest.CaptureFixture):
    assert main(["ci", "--source", str(app_repo / APP), "--base", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bayon: --base nope: no commit nope in this repository;")


def test_a_gate_that_takes_no_base_refuses_one(app_repo: Path):
    async def go():
        async with LocalExecutor(app_repo / APP) as executor:
            await runner.gate("quality", executor, base="main")

    with pytest.raises(UsageError, match=r"--base main: only ci\b.* take a base revision"):
        asyncio.run(go())


# 4. the git step in Dagger (offline: the real dagger-io objects, no engine)

def test_the_repo_argument_keeps_git_history_and_drops_installs():
    repo = dagger_functions()["ci"].parameters["repo"]
    assert repo.default_path == "/"
    assert ".git" not in repo.ignore and not any(".git" in pattern for pattern in repo.ignore)
    assert "**/node_modules" in repo.ignore and "**/.next" in repo.ignore
    assert repo.doc and dagger_functions()["ci"].parameters["base"].doc


def test_the_git_step_runs_in_its_image_on_the_mounted_repository():
    repo = dag.host().directory(".")
    executor = DaggerExecutor(dag.host().directory(APP), repo=repo, repo_path="examples/coagent")
    step = changes.step("origin/main", PATTERNS)
    ctr = executor.step_container(executor.repo_base(step), step)
    chain = fields(ctr)
    assert (chain[1].name, chain[1].args) == ("from", {"address": "alpine/git:2.52.0"})
    (mount,) = find(ctr, "withDirectory", path=REPO_ROOT)
    assert mount.args["source"] == repo and "exclude" not in mount.args  # the whole repository, .git included
    assert not find(ctr, "withExec", args=["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"])  # no install
    assert index(ctr, "withWorkdir", path="/repo/examples/coagent") < index(ctr, "withExec")
    (run,) = find(ctr, "withExec")
    assert run.args["args"] == list(step.argv) and run.args["expect"] == "ANY"
    assert {f.args["name"]: f.args["value"] for f in find(ctr, "withEnvVariable")} == changes.GIT_ENV


def test_equal_inputs_give_equal_git_plans():
    def plan():
        executor = DaggerExecutor(dag.host().directory(APP), repo=dag.host().directory("."), repo_path=APP)
        step = changes.step("abc123", PATTERNS)
        return executor.step_container(executor.repo_base(step), step)

    assert plan() == plan()


def test_without_a_repository_the_git_step_reports_why_instead_of_raising():
    run = asyncio.run(DaggerExecutor(dag.host().directory(APP)).run(changes.step("main", PATTERNS)))
    assert run.exit_code is None and "needs the repository" in run.error
