"""The delivery functions through `bayon` (the command line, in process) against the moto server, with the usual AWS
environment for credentials: exit 0 deployed, 4 failed and rolled back (the stderr line says to what), 5 at no known
release, 1 refused with nothing changed; `history --incident` prints the incident's Markdown; bad flags exit 2."""

from __future__ import annotations

import json

import pytest

from ci.cli.app import main
from tests.delivery.deploy_world import COMMITS, World, template
from tests.delivery.local_http import Answer

SHARES_MOTO = True


@pytest.fixture
def world(moto_url, tmp_path, monkeypatch):
    made = World(moto_url, "cli", alarm=False, monitoring_minutes=0, retries=0)
    (tmp_path / "pipeline.yaml").write_text(made.config_text)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPLANTEDCLIKEY001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted-cli-secret-0b9e")
    made.source = str(tmp_path)
    yield made
    made.close()


def _bayon(world: World, capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--source", world.source])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exit_codes_follow_the_outcome(world, capsys):
    first = world.store(COMMITS[0], template(world.stack_name, 30))
    second = world.store(COMMITS[1], template(world.stack_name, 45))
    code, out, _ = _bayon(world, capsys, "deploy", "--env", "cli", "--release", first, "--format", "json")
    assert (code, json.loads(out)["outcome"]) == (0, "deployed")

    world.health = [Answer(500, b"boom"), Answer(200, b"ok")]
    code, out, err = _bayon(world, capsys, "deploy", "--env", "cli", "--release", second, "--format", "json")
    assert (code, json.loads(out)["outcome"]) == (4, "rolled_back")
    assert f"failed: rolled back to {first[:12]}" in err
    incident = json.loads(out)["delivery"]["incident"]
    assert f"bayon history --env cli --incident {incident}" in err

    code, out, _ = _bayon(world, capsys, "history", "--env", "cli", "--incident", incident)
    assert code == 0 and out.startswith("#") and second[:12] in out

    code, _, err = _bayon(world, capsys, "rollback", "--env", "cli", "--to", second)
    assert code == 1 and "never deployed to cli" in err

    world.s3.put_object(Bucket=world.bucket, Key=f"releases/{first}/parameters.json", Body=b'{"other": {}}')
    world.health = [Answer(500, b"boom")]
    code, _, err = _bayon(world, capsys, "deploy", "--env", "cli", "--release", second)
    assert code == 5 and "cli is NOT at a known release" in err
    assert "planted-cli-secret" not in err


def test_bad_arguments_exit_2_with_the_fix(world, capsys):
    code, _, err = _bayon(world, capsys, "deploy", "--env", "nope", "--release", COMMITS[0])
    assert code == 2 and "--env nope: no such environment; pipeline.yaml has cli" in err
    code, _, err = _bayon(world, capsys, "package", "--env", "cli", "--commit-sha", "abc1234")
    assert code == 2 and "short commit SHA" in err
