"""A real deploy (bayon, against the moto server) announced: its GitHub deployment in the stand-in repository
(requests and answers checked against GitHub's OpenAPI description) and a Slack webhook that is dead: one answering
500, one that hangs. The deploy passes either way, the webhook costs at most its timeout (plus the send's grace),
the failure is a warning finding, and neither the token nor the webhook's secret part is in the output."""

from __future__ import annotations

import json
import time

import pytest

from ci.cli.app import main
from ci.delivery.notify import GRACE_S
from tests.delivery.deploy_world import COMMITS, World, template
from tests.delivery.local_http import Answer, serve

SHARES_MOTO = True
TOKEN, HOOK_SECRET = "ghs_plantedannouncedeploy1", "planted-hook-7f3e"
TIMEOUT_S = 1


@pytest.fixture
def world(moto_url, tmp_path, monkeypatch):
    made = World(moto_url, "ann", alarm=False, monitoring_minutes=0, retries=0)
    (tmp_path / "pipeline.yaml").write_text(made.config_text + f"notifications:\n  slack: {{timeout_s: {TIMEOUT_S}}}\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPLANTEDANNOUNCE1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted-announce-secret")
    monkeypatch.setenv("PLANTED_GH_TOKEN", TOKEN)
    made.source = str(tmp_path)
    yield made
    made.close()


def _deploy(world: World, served_github, capsys) -> tuple[int, dict, str, float]:
    release_id = world.store(COMMITS[0], template(world.stack_name))
    started = time.monotonic()
    code = main(["deploy", "--env", "ann", "--release", release_id, "--source", world.source, "--format", "json",
                 "--github-token", "env://PLANTED_GH_TOKEN", "--github-repository", served_github.repository,
                 "--github-api-url", served_github.url, "--github-run-id", "7001",
                 "--slack-webhook", "env://SLACK_HOOK"])
    elapsed = time.monotonic() - started
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err and HOOK_SECRET not in out.out + out.err
    return code, json.loads(out.out), out.err, elapsed


@pytest.mark.parametrize("answer, said", [(Answer(500, b"internal_error"), "slack notification failed"),
                                          (Answer(200, b"ok", delay_s=30), "timed out")])
def test_a_dead_webhook_neither_fails_nor_holds_up_the_deploy(world, served_github, capsys, monkeypatch, answer,
                                                              said):
    with serve(lambda n, path: answer) as (base, seen):
        monkeypatch.setenv("SLACK_HOOK", f"{base}/services/T0/B0/{HOOK_SECRET}")
        code, report, _, elapsed = _deploy(world, served_github, capsys)
    assert code == 0 and report["passed"] and report["outcome"] == "deployed"
    (warning,) = [f for f in report["findings"] if f["rule"] == "notify/failed"]
    assert warning["severity"] == "warning" and said in warning["message"]
    assert len(seen.requests) == 1 and json.loads(seen.requests[0][3])["blocks"]  # one post, Block Kit, no retry
    sent = max(s["started_s"] + s["duration_s"] for s in report["steps"])
    assert elapsed - sent <= TIMEOUT_S + GRACE_S + 1.0, "the webhook held the deploy up past its timeout"
    states = [b["state"] for b in served_github.bodies("POST", "/statuses")]
    assert states == ["in_progress", "success"]
