"""Secret references: validated when parsed, read only at the last moment, and never written anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.cli.app import main
from ci.core.errors import UsageError
from ci.core.secret_refs import check_secret_ref, resolve

PLANTED = "planted-npm-token-4f9c2e"


def test_only_references_are_accepted():
    assert check_secret_ref("env://NPM_TOKEN", "--npm-token") == "env://NPM_TOKEN"
    assert check_secret_ref("file:///run/token", "--npm-token") == "file:///run/token"
    for bad in (PLANTED, "env://", "vault://x"):
        with pytest.raises(UsageError, match="--npm-token takes a secret reference"):
            check_secret_ref(bad, "--npm-token")


def test_values_come_from_the_environment_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BAYON_TEST_TOKEN", PLANTED)
    assert resolve("env://BAYON_TEST_TOKEN") == PLANTED
    (tmp_path / "token").write_text(PLANTED + "\n")
    assert resolve(f"file://{tmp_path}/token") == PLANTED
    with pytest.raises(UsageError, match="BAYON_MISSING is not set"):
        resolve("env://BAYON_MISSING")


@pytest.mark.tools
def test_a_planted_token_reaches_no_output_report_or_plan(app: Path, tmp_path: Path, monkeypatch, capfd):
    monkeypatch.setenv("BAYON_PLANTED_TOKEN", PLANTED)
    out = tmp_path / "reports"
    assert main(["reports", "--source", str(app), "--function", "lint", "--npm-token", "env://BAYON_PLANTED_TOKEN",
                 "-o", str(out)]) == 0
    assert main(["lint", "--source", str(app), "--format", "json", "--npm-token", "env://BAYON_PLANTED_TOKEN"]) == 0
    assert main(["plan", "ci", "--source", str(app)]) == 0
    captured = capfd.readouterr()
    written = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert written and (out / "report.json").is_file()
    for text in (captured.out, captured.err, *[w.decode(errors="replace") for w in written]):
        assert PLANTED not in text
