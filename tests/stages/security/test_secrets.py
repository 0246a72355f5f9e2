"""The secrets scan: the scanner's pure parts, the judge, the step, and real detect-secrets on git repositories built
here (a key only in an old commit, a baseline, `--base`, a shallow clone), its value absent from every output."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import string
from pathlib import Path

import jsonschema
import pytest
from apps import run_local
from gitrepo import commit, git, init

from ci.pipeline import runner
from ci.pipeline import registry
from ci.stages.security import secrets as secrets_scan
from ci.cli.app import main
from ci.config import load_config
from ci.core.errors import UsageError
from ci.core.executor import TOOLS_DIR
from ci.core.scheduler import judge_run
from ci.core.step import PYTHON_IMAGE, StepRun

spec = importlib.util.spec_from_file_location("secrets_scan_script", TOOLS_DIR / secrets_scan.SCRIPT)
scanner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scanner)

APP = "apps/web/"
REPORT_SCHEMA = json.loads((TOOLS_DIR.parent / "schemas" / "report.schema.json").read_text())


def fake(prefix: str, length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    """A value made up for this run (none is ever committed to this repository)."""
    return prefix + "".join(random.choices(alphabet, k=length))


def quarters(value: str) -> set[str]:
    """Every 4-character part of a value: what a preview of it would show."""
    return {value[i:i + 4] for i in range(len(value) - 3)}


# 1. the scanner's pure parts

def test_an_entry_holds_where_the_secret_is_and_its_hash_but_no_part_of_it():
    value = "AKIA" + "QWERTYUIOPASDFGH"
    entry = scanner._entry("AWS Access Key", "src/a.ts", 2, value, in_tree=True)
    assert entry == {"rule": "AWS Access Key", "file": "src/a.ts", "line": 2, "commit": None, "in_tree": True,
                     "hashed_secret": scanner.hashed(value)}
    assert not [part for part in quarters(value) if part in json.dumps(entry)]


def test_added_lines_are_read_per_commit_with_their_new_line_numbers():
    log = ("\0" + "a" * 40 + "\n\n"
           "diff --git a/src/a.ts b/src/a.ts\nindex 1..2 100644\n--- a/src/a.ts\n+++ b/src/a.ts\n"
           "@@ -3 +3,2 @@\n-old\n+new three\n+++plus four\n@@ -10,0 +12 @@\n+twelve\n"
           "diff --git a/gone.ts b/gone.ts\ndeleted file mode 100644\n--- a/gone.ts\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
           "\0" + "b" * 40 + "\n\n"
           'diff --git "a/sp\\"ace\\303\\251.ts" "b/sp\\"ace\\303\\251.ts"\nnew file mode 100644\n'
           '--- /dev/null\n+++ "b/sp\\"ace\\303\\251.ts"\n@@ -0,0 +1 @@\n+one\n\\ No newline at end of file\n')
    assert scanner.added_lines(log) == {
        "a" * 40: {"src/a.ts": [(3, "new three"), (4, "++plus four"), (12, "twelve")]},
        "b" * 40: {'sp"aceé.ts': [(1, "one")]},
    }


def test_a_file_that_is_not_a_baseline_is_a_one_line_problem(tmp_path: Path, capsys: pytest.CaptureFixture):
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"results": 3}')
    with pytest.raises(scanner.Problem, match="is not a detect-secrets baseline .*detect-secrets scan >"):
        scanner.accepted_hashes(baseline)
    assert scanner.accepted_hashes(tmp_path / "absent") == (set(), False)


# 2. the judge

REPORT = {"tool": "detect-secrets", "version": "1.5.0", "range": "HEAD", "commits": 3, "files": 2,
          "baseline": ".secrets.baseline", "accepted": 1,
          "findings": [{"rule": "AWS Access Key", "file": "src/config.ts", "line": 2, "commit": "c" * 40,
                        "in_tree": False, "hashed_secret": "d" * 40}]}


def run_of(report: dict | None, **fields) -> StepRun:
    files = {secrets_scan.REPORT: json.dumps(report).encode()} if report is not None else {}
    return StepRun(**{"exit_code": 0, "files": files, **fields})


def test_each_secret_is_an_error_with_its_commit_and_hash():
    (step,) = secrets_scan.steps(load_config(None))
    judgement = judge_run(step, run_of(REPORT))
    assert judgement.status == "failed"
    (f,) = judgement.findings
    assert (f.rule, f.severity, f.file, f.line) == ("AWS Access Key", "error", "src/config.ts", 2)
    assert f.extra == {"commit": "c" * 40, "in_tree": False, "hashed_secret": "d" * 40}
    assert "AWS Access Key no longer in the tree, but in the history since commit cccccccccccc" in f.message
    assert judgement.reason == ("detect-secrets 1.5.0: 1 secret(s) in 2 file(s), 3 commit(s) of HEAD; "
                                "1 accepted by .secrets.baseline")


def test_no_secret_passes():
    (step,) = secrets_scan.steps(load_config(None))
    judgement = judge_run(step, run_of({**REPORT, "findings": [], "baseline": None}))
    assert (judgement.status, judgement.findings) == ("passed", ())
    assert judgement.reason.endswith("; no baseline")


@pytest.mark.parametrize("run, reason", [
    (run_of(None), "the secrets scan wrote no report (secrets.json)"),
    (StepRun(exit_code=0, files={"secrets.json": b"{not json"}), "the secrets scan's report is unreadable"),
    (run_of({**REPORT, "findings": [{"rule": "x"}]}), "the secrets scan's report is unreadable: KeyError"),
    (run_of(None, exit_code=3, stderr="secrets-scan: this checkout is a shallow clone, ..."),
     "detect-secrets exited with code 3:\nsecrets-scan: this checkout is a shallow clone"),
])
def test_no_readable_report_or_a_problem_is_a_crash(run: StepRun, reason: str):
    (step,) = secrets_scan.steps(load_config(None))
    judgement = judge_run(step, run)
    assert judgement.status == "crashed" and judgement.reason.startswith(reason)


def test_a_scan_of_no_files_fails_with_the_reason_never_passes():
    (step,) = secrets_scan.steps(load_config(None))
    judgement = judge_run(step, run_of({**REPORT, "files": 0, "commits": 0, "findings": [], "path": "apps/typo"}))
    assert (judgement.status, judgement.reason) == (
        "failed", "scanned no files under apps/typo: check --source/--repo-path")
    at_root = judge_run(step, run_of({**REPORT, "files": 0, "findings": [], "path": "."}))
    assert at_root.status == "failed" and at_root.reason.startswith("scanned no files under .:")
    uncounted = {key: value for key, value in REPORT.items() if key != "files"}
    judgement = judge_run(step, run_of({**uncounted, "findings": []}))
    assert judgement.status == "crashed" and "does not say how many files it scanned" in judgement.reason


# 3. the step

def test_the_step_runs_the_scanner_in_the_repository_in_a_pinned_python_image():
    config = load_config("security:\n  secrets:\n    baseline: config/accepted.json\n")
    (step,) = secrets_scan.steps(config, "origin/main")
    assert step.argv == ("python3", "{tools}/secrets-scan.py", "--output", "{reports}/secrets.json",
                         "--baseline", "config/accepted.json", "--base", "origin/main")
    assert (step.image, step.in_repo, step.tools, step.outputs) == (
        PYTHON_IMAGE, True, ("secrets-scan.py",), ("secrets.json",))
    assert step.tool_install[-1][-1] == secrets_scan.DETECT_SECRETS == "detect-secrets==1.5.0"
    assert step.finding_codes == frozenset() and step.ok_codes == frozenset({0})


def test_no_base_or_a_new_branch_scans_the_whole_history_and_a_bad_ref_is_refused():
    for base in ("", "0" * 40):
        (step,) = secrets_scan.steps(load_config(None), base)
        assert "--base" not in step.argv
    with pytest.raises(UsageError, match="not a git revision"):
        secrets_scan.steps(load_config(None), "--upload-pack=x")


def test_a_repo_and_repo_path_that_do_not_hold_the_source_stop_the_scan_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture):
    root = init(tmp_path / "repo")
    commit(root, {APP + "package.json": '{"name": "web"}\n', "apps/api/package.json": '{"name": "api"}\n'}, "apps")
    source = str(root / APP)
    assert main(["secrets", "--source", source, "--repo", str(root), "--repo-path", "apps/api"]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress line naming the step
    assert line == ("bayon: --repo-path apps/api: the repository holds another package.json than --source's at "
                    "apps/api/; pass where --source sits in the repository (e.g. --repo-path examples/coagent)")
    assert main(["sast", "--source", source, "--repo", str(root), "--repo-path", "apps/gone"]) == 2
    assert "holds no package.json at apps/gone/" in capsys.readouterr().err


def test_only_the_scanning_gates_take_a_base():
    assert {name for name, stage in registry.GATES.items() if stage.takes_base} == {"security", "secrets", "sast"}
    with pytest.raises(UsageError, match="--base main: only ci, security, secrets, sast take a base revision"):
        asyncio.run(runner.gate("quality", None, base="main"))


# 4. real detect-secrets on repositories built here

@pytest.fixture
def leaky(tmp_path: Path) -> dict:
    """An app in apps/web/ of a repository: a fake AWS key committed and then removed, a password accepted by the
    baseline, and a key outside the app (not its to report)."""
    key, password, outside = fake("AKIA", 16), fake("pw-", 20, string.ascii_letters), fake("AKIA", 16)
    root = init(tmp_path / "repo")
    leaked = commit(root, {APP + "src/config.ts": f'export const region = "eu-west-1";\nexport const key = "{key}";\n',
                           "other/keys.ts": f'export const key = "{outside}";\n'}, "config")
    commit(root, {APP + "src/config.ts": 'export const region = "eu-west-1";\nexport const key = process.env.KEY;\n'},
           "read the key from the environment")
    base = git(root, "rev-parse", "HEAD").strip()
    db = f'export const password = "{password}";\n'
    accepted = scanner.hashed(password)
    baseline = {"version": "1.5.0", "results": {"src/db.ts": [
        {"type": "Secret Keyword", "filename": "src/db.ts", "hashed_secret": accepted, "line_number": 1}]}}
    commit(root, {APP + "src/db.ts": db, APP + ".secrets.baseline": json.dumps(baseline)}, "db")
    return {"root": root, "app": root / APP, "key": key, "password": password, "outside": outside,
            "leaked": leaked, "base": base}


def secrets_json(app: Path, capsys: pytest.CaptureFixture, *flags: str) -> tuple[int, dict, str]:
    code = main(["secrets", "--source", str(app), "--format", "json", *flags])
    out, err = capsys.readouterr()
    return code, json.loads(out), out + err


@pytest.mark.tools
def test_a_key_only_in_an_old_commit_is_found_with_its_commit_and_its_value_is_nowhere(
        leaky: dict, tmp_path: Path, capsys: pytest.CaptureFixture):
    code, report, printed = secrets_json(leaky["app"], capsys)
    assert code == 1 and not report["passed"]
    jsonschema.validate(report, REPORT_SCHEMA)  # the one result shape, extended with the secret's fields
    (step,) = [s for s in report["steps"] if s["id"] == "security/secrets"]
    assert step["status"] == "failed" and "1 accepted by .secrets.baseline" in step["reason"]
    (found,) = report["findings"]  # the baseline's password and the key outside the app are not reported
    assert {k: found[k] for k in ("rule", "file", "line", "commit", "in_tree")} == {
        "rule": "AWS Access Key", "file": "src/config.ts", "line": 2, "commit": leaky["leaked"], "in_tree": False}
    assert "preview" not in found

    out = tmp_path / "reports"
    assert main(["reports", "--function", "secrets", "--source", str(leaky["app"]), "-o", str(out)]) == 0
    printed += "".join(capsys.readouterr())
    written = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {"report.json", "report.md", "report.sarif", "security/secrets/secrets.json"} <= set(written)
    (result,) = [r for run in json.loads(written["report.sarif"])["runs"] for r in run["results"]]
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "src/config.ts"},
                                                          "region": {"startLine": 2}}
    for value in (leaky["key"], leaky["password"], leaky["outside"]):
        assert value not in printed
        assert not [name for name, data in written.items() if value.encode() in data]


@pytest.mark.tools
def test_with_a_base_only_the_commits_since_it_are_scanned(leaky: dict, capsys: pytest.CaptureFixture):
    new_key = fake("AKIA", 16)
    added = commit(leaky["root"], {APP + "src/new.ts": f'export const other = "{new_key}";\n'}, "new key")
    code, report, printed = secrets_json(leaky["app"], capsys, "--base", leaky["base"])
    assert code == 1
    assert [(f["file"], f["commit"], f["in_tree"]) for f in report["findings"]] == [("src/new.ts", added, True)]
    assert f"2 commit(s) of {leaky['base']}..HEAD" in report["steps"][-1]["reason"]
    assert new_key not in printed and leaky["key"] not in printed


@pytest.mark.tools
def test_a_real_scan_of_an_empty_folder_fails(tmp_path: Path):
    root = init(tmp_path / "repo")
    commit(root, {"apps/web/src/a.ts": "export const a = 1;\n"}, "one")
    (root / "apps" / "typo").mkdir()  # a folder of the checkout that holds no file git tracks or would track
    report = run_local(lambda executor: runner.gate("secrets", executor), root / "apps" / "typo")
    (step,) = report.steps
    assert not report.passed and (step.status, step.exit_code) == ("failed", 0)
    assert step.reason == "scanned no files under apps/typo: check --source/--repo-path"


@pytest.mark.tools
def test_a_clean_repository_passes_and_a_shallow_clone_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture):
    root = init(tmp_path / "clean")
    commit(root, {"src/a.ts": "export const a = 1;\n"}, "one")
    commit(root, {"src/b.ts": "export const b = 2;\n"}, "two")
    code, report, _ = secrets_json(root, capsys)
    assert code == 0 and report["steps"][-1]["reason"].startswith("detect-secrets 1.5.0: 0 secret(s) in 2 file(s)")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", root.as_uri(), str(shallow))
    code, report, _ = secrets_json(shallow, capsys)
    (step,) = report["steps"]
    assert code == 1 and step["status"] == "crashed"
    assert "this checkout is a shallow clone" in step["reason"] and "fetch-depth: 0" in step["reason"]


@pytest.mark.tools
def test_no_four_characters_of_a_secret_are_in_any_report(tmp_path: Path, capsys: pytest.CaptureFixture):
    """A key in the tree and one only in the history: no 4-character part of either (what the old preview showed, and
    more) is in the printed report, report.json, report.md, report.sarif or the scan's own report."""
    rng = random.Random(8)  # made-up values, the same every run; letters only, so no part is a number of the report
    tree_key, old_key = ("AKIA" + "".join(rng.choices(string.ascii_uppercase, k=16)) for _ in range(2))
    root = init(tmp_path / "repo")
    commit(root, {"src/old.ts": f'export const key = "{old_key}";\n'}, "a key")
    commit(root, {"src/old.ts": "export const key = process.env.KEY;\n",
                  "src/keys.ts": f'export const key = "{tree_key}";\n'}, "another key")
    code, report, printed = secrets_json(root, capsys)
    out = tmp_path / "reports"
    assert main(["reports", "--function", "secrets", "--source", str(root), "-o", str(out)]) == 0
    printed += "".join(capsys.readouterr())
    assert code == 1 and sorted((f["file"], f["in_tree"]) for f in report["findings"]) == [
        ("src/keys.ts", True), ("src/old.ts", False)]
    texts = {name: (out / name).read_text() for name in
             ("report.json", "report.md", "report.sarif", "security/secrets/secrets.json")}
    texts["printed"] = printed
    for value in (tree_key, old_key):
        assert not [(name, part) for name, text in texts.items() for part in quarters(value) if part in text]
