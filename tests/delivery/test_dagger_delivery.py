"""The delivery functions through the Dagger face, offline: the real `Ci` functions with real dagger-io Secrets
(`dag.set_secret`), the executor's file reads answered from the test's pipeline.yaml, and boto3 against the moto
server in this process. A failed deploy fails the call with the first line that says where the environment is; the
planted credentials are read for the AWS clients only and reach no report, log, state, lock or release object."""

from __future__ import annotations

import asyncio
import json

import dagger
import pytest
from dagger import dag

from ci.delivery.aws import connect
from ci.delivery.deploy import Request, deploy
from ci.delivery.phase_log import PhaseLog
from ci.executors.dagger import DaggerExecutor
from ci.main import Ci, GateFailed
from ci.pipeline import deliver
from tests import chain
from tests.delivery.deploy_world import COMMITS, World, template
from tests.delivery.local_http import Answer

SHARES_MOTO = True

KEY_ID, SECRET = "AKIAPLANTEDDELIVERY7", "planted-delivery-secret-c41d"


@pytest.fixture
def world(moto_url, monkeypatch):
    made = World(moto_url, "dagger", alarm=False, monitoring_minutes=0, retries=0)

    async def read(self, path):
        texts = {"pipeline.yaml": made.config_text, "template.yaml": "Transform: AWS::Serverless-2016-10-31\n"
                                                                     "Resources: {}\n"}
        return texts.get(path)


    monkeypatch.setattr(DaggerExecutor, "read_source_file", read)
    monkeypatch.setattr(DaggerExecutor, "source_paths", lambda self, patterns: _one_template())
    monkeypatch.setattr(dagger.Secret, "plaintext", chain.planted_plaintext)
    yield made
    made.close()


def _keys() -> dict:
    return {"aws_access_key_id": dag.set_secret("aws-key", KEY_ID),
            "aws_secret_access_key": dag.set_secret("aws-secret", SECRET)}


def _call(function: str, **args) -> str:
    return asyncio.run(getattr(Ci(), function)(source=dag.directory(), **args, **_keys()))


def test_deploy_rollback_history_and_smoke_through_the_dagger_face(world, capfd):
    first = world.store(COMMITS[0], template(world.stack_name, 30))
    second = world.store(COMMITS[1], template(world.stack_name, 45), tags=("rc-2.0.0",))
    texts = [_call("deploy", env=world.name, release=first, format="json")]
    deployed = json.loads(texts[0])
    assert (deployed["outcome"], deployed["passed"], deployed["delivery"]["release"]) == ("deployed", True, first)

    world.health = [Answer(500, b"boom"), Answer(200, b"ok")]
    with pytest.raises(GateFailed) as failed:
        _call("deploy", env=world.name, release="rc-2.0.0", format="json")
    first_line, rest = str(failed.value).split("\n", 1)
    assert first_line.startswith(f"deploy of {second[:12]} to {world.name} failed: rolled back to {first[:12]}")
    assert json.loads(rest)["outcome"] == "rolled_back"
    texts.append(str(failed.value))

    history = json.loads(_call("history", env=world.name, format="json"))
    texts.append(json.dumps(history))
    (incident,) = world.state().incidents
    assert history["delivery"]["environment"] == world.name and "outcome" not in history
    assert any(incident.id in json.dumps(table["rows"]) for table in history["tables"])
    report = _call("history", env=world.name, incident=incident.id)
    assert report.startswith("#") and first[:12] in report and "smoke" in report
    texts += [report, _call("smoke", env=world.name, format="table")]

    with pytest.raises(GateFailed) as refused:  # the current release is the only good one: nothing before it
        _call("rollback", env=world.name, format="table")
    assert str(refused.value).split("\n", 1)[0] == (
        f"rollback of {world.name} failed: target: {world.name} has no earlier known good release to roll back to; "
        f"name one with --to (see `bayon history --env {world.name}`); nothing was changed")
    texts.append(str(refused.value))

    out = capfd.readouterr()
    stored = [world.s3.get_object(Bucket=world.bucket, Key=o["Key"])["Body"].read()
              for o in world.s3.list_objects_v2(Bucket=world.bucket)["Contents"]]
    for value in (KEY_ID, SECRET):
        assert value not in "".join(texts) + out.out + out.err
        assert all(value.encode() not in data for data in stored)


def test_package_through_the_dagger_face_gives_the_credentials_to_its_step_as_secrets_only(world, monkeypatch):
    """`dagger call package` offline: the package container's exit code and packaged template answered at the SDK's
    leaves (the code object it uploaded put in the bucket by hand), the store against moto for real."""
    commit = COMMITS[3]
    code = f"releases/{commit}/code/0123abcd"
    world.s3.put_object(Bucket=world.bucket, Key=code, Body=b"zip bytes")
    packaged = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function",
                                     "Properties": {"CodeUri": f"s3://{world.bucket}/{code}"}}}}
    ran = []

    async def exit_code(self):
        ran.append(self)
        return 0

    async def text(self):
        return ""

    async def contents(self):
        return json.dumps(packaged)

    for cls, name, fn in ((dagger.Container, "exit_code", exit_code), (dagger.Container, "stdout", text),
                          (dagger.Container, "stderr", text), (dagger.File, "contents", contents)):
        monkeypatch.setattr(cls, name, fn)
    report = json.loads(_call("package", env=world.name, commit_sha=commit, tag=["rc-3.0.0"], format="json"))
    assert [(s["id"], s["status"]) for s in report["steps"]] == [(f"infra/package/{world.name}", "passed"),
                                                                 ("release/store", "passed")]
    (ctr,) = ran
    assert {f.args["name"] for f in chain.find(ctr, "withSecretVariable")} == {"AWS_ACCESS_KEY_ID",
                                                                              "AWS_SECRET_ACCESS_KEY"}
    argv = " ".join(a for f in chain.find(ctr, "withExec") for a in f.args["args"])
    assert f"--s3-prefix releases/{commit}/code" in argv
    plain = repr([f.args for f in chain.fields(ctr) if f.name in ("withExec", "withEnvVariable")])
    assert KEY_ID not in plain and SECRET not in plain and KEY_ID not in json.dumps(report)
    stored = json.loads(world.s3.get_object(Bucket=world.bucket, Key=f"releases/{commit}/manifest.json")["Body"].read())
    assert {o["name"] for o in stored["objects"]} == {"template.json", "parameters.json", "code/0123abcd"}


async def _one_template():
    return ["template.yaml"]


def test_plan_package_shows_the_step_under_the_release_prefix_with_secret_names_only(world):
    steps = json.loads(asyncio.run(Ci().plan(source=dag.directory(), function="package")))
    (step,) = steps
    assert step["id"] == f"infra/package/{world.name}"
    assert "--s3-prefix 'releases/<commit-sha>/code'" in step["argv"][-1]
    assert sorted(step["secrets"]) == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]


@pytest.mark.parametrize("function", ["deploy", "rollback", "smoke", "history", "promote"])
def test_plan_of_a_delivery_function_without_steps_is_empty(world, function):
    assert json.loads(asyncio.run(Ci().plan(source=dag.directory(), function=function))) == []


def test_plan_of_accept_and_deployment_plan_shows_their_steps_with_secret_names_only(world):
    accept = json.loads(asyncio.run(Ci().plan(source=dag.directory(), function="accept")))
    tests = next(s for s in accept if s["id"] == f"tests/deployed/{world.name}")
    assert sorted(tests["secrets"]) == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
    assert tests["argv"][:3] == ["node_modules/.bin/jest", "-c", "jest.deployed.config.mjs"] and not tests["services"]
    (history,) = json.loads(asyncio.run(Ci().plan(source=dag.directory(), function="deployment-plan")))
    assert history["id"] == "plan/history" and history["tool"] == "git" and history["secrets"] == {}
    assert KEY_ID not in json.dumps(accept) + json.dumps(history) and SECRET not in json.dumps(accept)


FROM_KEY, FROM_SECRET = "AKIAPLANTEDUPSTREAM9", "planted-upstream-secret-77e2"


def test_deploy_promotes_from_its_upstream_with_the_from_credentials_through_the_dagger_face(world, monkeypatch):
    staging = World(world.url, "staging", alarm=False, retries=0)
    world.upstream = staging  # the dagger environment now has promote_from: staging
    rid = staging.store(COMMITS[5], template(staging.stack_name, 30), also=(world.name,))
    assert deploy(staging.aws(), staging.context(), Request(rid), PhaseLog(lambda line: None)).outcome == "deployed"
    connected = []

    def recording(config, env_name, given):
        connected.append((env_name, given.access_key_id, given.secret_access_key))
        return connect(config, env_name, given)

    monkeypatch.setattr(deliver, "connect", recording)
    text = _call("deploy", env=world.name, release=rid, format="json",
                 from_aws_access_key_id=dag.set_secret("from-key", FROM_KEY),
                 from_aws_secret_access_key=dag.set_secret("from-secret", FROM_SECRET))
    found = json.loads(text)
    assert found["outcome"] == "deployed"
    assert "deploy/promotion" in [s["id"] for s in found["steps"]]
    assert connected == [(world.name, KEY_ID, SECRET), ("staging", FROM_KEY, FROM_SECRET)]
    stored = [w.s3.get_object(Bucket=w.bucket, Key=o["Key"])["Body"].read() for w in (world, staging)
              for o in w.s3.list_objects_v2(Bucket=w.bucket)["Contents"]]
    for value in (FROM_KEY, FROM_SECRET, KEY_ID, SECRET):
        assert value not in text and all(value.encode() not in data for data in stored)
    staging.close()


def test_deploy_announces_through_the_dagger_face_with_the_token_and_webhook_as_secrets_only(world, github_spec,
                                                                                              capfd):
    from tests.delivery.local_http import serve
    from tests.integrations.github_world import World as GitHub, served

    token, hook = "ghs_planteddaggertoken0001", "planted-dagger-hook-91c2"
    release_id = world.store(COMMITS[0], template(world.stack_name, 30))
    github = GitHub(github_spec)
    notified = world.config_text + "notifications:\n  slack: {timeout_s: 2}\n"
    with served(github) as api, serve(lambda n, path: Answer(200, b"ok")) as (base, seen), \
            pytest.MonkeyPatch.context() as patch:
        async def read(self, path):
            return notified if path == "pipeline.yaml" else None

        patch.setattr(DaggerExecutor, "read_source_file", read)
        text = _call("deploy", env=world.name, release=release_id, format="json",
                     github_token=dag.set_secret("gh", token), github_repository=github.repository,
                     github_api_url=api, github_run_id="7001",
                     slack_webhook=dag.set_secret("hook", f"{base}/services/T0/B0/{hook}"))
    report = json.loads(text)
    assert report["outcome"] == "deployed"
    assert [b["state"] for b in github.bodies("POST", "/statuses")] == ["in_progress", "success"]
    assert all(r.headers["Authorization"] == f"Bearer {token}" for r in github.requests)
    ((method, path, _, body),) = seen.requests
    assert method == "POST" and path.endswith(hook) and json.loads(body)["blocks"]
    out = capfd.readouterr()
    stored = [world.s3.get_object(Bucket=world.bucket, Key=o["Key"])["Body"].read().decode(errors="replace")
              for o in world.s3.list_objects_v2(Bucket=world.bucket)["Contents"]]
    for value in (token, hook):
        assert value not in text + out.out + out.err + "".join(stored)
    assert github.errors == []
