"""A deploy killed mid-change-set (SIGKILL, in another process, while it waits for the stack after executing its
change set): the next deploy finds
the stale lock (its owner's pid is dead on this host) and the attempt in progress, reverts the environment to the
last known good release, and only then deploys its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ci.delivery.deploy import Request, deploy
from ci.delivery.phase_log import PhaseLog
from tests.delivery.deploy_world import COMMITS, World, template

V1, V2, V3 = 30, 45, 60

KILLED_RUN = """
import json, sys, time
from pathlib import Path
import boto3
from ci.config import load_config
from ci.delivery import stack
from ci.delivery.aws import clients
from ci.delivery.clients import Target
from ci.delivery.context import Context
from ci.delivery.deploy import Request, deploy
from ci.delivery.phase_log import PhaseLog

SHARES_MOTO = True

given = json.loads(sys.argv[1])
environment = load_config(given["config"]).environments[given["name"]]
ctx = Context(given["name"], environment, run_id="run-killed", owner="tester", delay_s=1)
session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
aws = clients(session, Target("us-east-1", given["url"], max_attempts=1))
def killed_while_waiting(*args, **kwargs):
    Path(given["marker"]).write_text("executed")
    time.sleep(600)  # killed here: the change set executed, the run waits for the stack, the lock is held


stack.finish = killed_while_waiting
deploy(aws, ctx, Request(given["release"]), PhaseLog(print))
"""


@pytest.fixture
def world(moto_url):
    made = World(moto_url, "resume", alarm=False)
    yield made
    made.close()


def test_a_deploy_killed_mid_change_set_is_reverted_by_the_next_one(world, tmp_path):
    first = world.store(COMMITS[0], template(world.stack_name, V1))
    assert deploy(world.aws(), world.context(), Request(first), PhaseLog(print, world.fake.clock)).outcome == "deployed"
    world.put_items()
    items = world.items()
    second = world.store(COMMITS[1], template(world.stack_name, V2))
    marker = tmp_path / "executed"
    given = {"url": world.url, "name": world.name, "config": world.config_text, "marker": str(marker),
             "release": second}
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, json.dumps(given)], cwd=root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the killed run never executed its change set"
            time.sleep(0.2)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    left = world.state()
    assert (left.attempt.release, left.attempt.run_id, left.attempt.executed) == (second, "run-killed", True)
    assert world.lock_present() and world.deployed_visibility() == V2

    third = world.store(COMMITS[2], template(world.stack_name, V3))
    lines: list[str] = []
    found = deploy(world.aws(), world.context(run_id="run-next"), Request(third), PhaseLog(lines.append,
                                                                                          world.fake.clock))
    assert found.outcome == "deployed", [s.reason for s in found.steps]
    assert "took over the stale lock of tester (run run-killed" in found.steps[0].reason
    assert [s.id for s in found.steps][2:6] == ["resume/verify", "resume/stack", "resume/smoke", "deploy/preflight"]
    assert any("stopped in its change_set phase" in line for line in lines)
    history = world.state().history
    assert [(d.release, d.outcome, d.run_id) for d in history[-2:]] == [(second, "rolled_back", "run-killed"),
                                                                        (third, "deployed", "run-next")]
    assert history[-1].previous == first  # the interrupted release never became the last known good
    world.assert_at(third, V3, items)
