"""The package step: its shell line (build and packaged template in `{reports}`, never the source), its judge on the
real `sam package` output shape, and offline the Dagger chain it runs as (image, the pinned SAM CLI installed before
the source is mounted, the credentials as secret variables of that step only, AWS_ENDPOINT_URL for an emulator)."""

from __future__ import annotations

import json

import pytest
from dagger import dag

from ci.config import load_config
from ci.core.step import ReportError, StepRun
from ci.delivery import credentials, packaging
from ci.delivery.clients import Target
from ci.executors.dagger import DaggerExecutor
from ci.main import Ci
from tests.chain import fields, find, index, render

PLANTED = "planted-dagger-secret-value-31"
CONFIG = load_config("environments:\n  staging: {region: eu-west-1, stack_name: coagent-staging, "
                     "artifacts_bucket: coagent-artifacts-staging}\n")


def _step(endpoint: str | None = None, prefix: str | None = None):
    return packaging.package_step("staging", CONFIG.environments["staging"], "backend/template.yaml",
                                  Target("eu-west-1", endpoint), prefix)


def test_build_and_package_write_into_reports_only():
    step = _step()
    line = step.argv[2]
    assert step.argv[:2] == ("sh", "-c") and step.outputs == (packaging.PACKAGED,)
    assert "--build-dir '{reports}/build'" in line and "--output-template-file '{reports}/packaged.json'" in line
    assert "--s3-bucket coagent-artifacts-staging --s3-prefix coagent-staging --region eu-west-1" in line
    build, package = line.split(" && ")[1:]
    assert line.startswith("sam --version && ")
    # the build runs npm (and the dependencies' install scripts): the credentials are taken out of its environment
    assert build.startswith("env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN sam build ")
    assert package.startswith("sam package ") and "env" not in package
    assert "--use-json" in line
    assert packaging.ENDPOINT_ENV not in step.env and step.env["BAYON_RUN_ID"] == "{run_id}"


def test_a_release_packages_its_code_under_its_own_prefix():
    line = _step(prefix="releases/0123456789abcdef0123456789abcdef01234567/code").argv[2]
    assert ("--s3-bucket coagent-artifacts-staging --s3-prefix releases/0123456789abcdef0123456789abcdef01234567/code "
            "--region eu-west-1") in line
    assert "coagent-staging" not in line.replace("coagent-artifacts-staging", "")


def test_judge_reads_the_packaged_template():
    packaged = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"F": {
        "Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://b/coagent-staging/19820816a6776c"}}}}
    run = StepRun(exit_code=0, stdout="SAM CLI, version 1.170.0\n\nBuild Succeeded\n",
                  files={packaging.PACKAGED: json.dumps(packaged).encode()})
    judgement = packaging.judge(run)
    assert (judgement.status, judgement.tool_version) == ("passed", "1.170.0")
    for files, message in (({packaging.PACKAGED: None}, "wrote no packaged.json"),
                           ({packaging.PACKAGED: b"Resources: {"}, "not JSON"),
                           ({packaging.PACKAGED: b"{}"}, "no Resources")):
        with pytest.raises(ReportError, match=message):
            packaging.judge(StepRun(exit_code=0, files=files))


def test_dagger_chain_installs_the_pinned_sam_before_the_source_and_gives_secrets_to_this_step_only():
    executor = DaggerExecutor(dag.directory())
    executor.give_secrets({"aws-access-key-id": "AKIAPLANTED9", "aws-secret-access-key": PLANTED})
    step = _step("http://moto:5000")
    ctr = executor.step_container(executor.tool_base(step), step)
    chain = fields(ctr)
    assert (chain[1].name, chain[1].args) == ("from", {"address": "node:22-bookworm-slim"})
    pin = index(ctr, "withExec", args=[f"{packaging.SAM_VENV}/bin/pip", "install", "--no-cache-dir",
                                       "--disable-pip-version-check", "aws-sam-cli==1.170.0"])
    assert pin < index(ctr, "withDirectory", path="/src")
    secret_vars = {f.args["name"]: f.args["secret"] for f in find(ctr, "withSecretVariable")}
    assert set(secret_vars) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # no session token was given
    assert all(type(s).__name__ == "Secret" for s in secret_vars.values())
    assert find(ctr, "withEnvVariable", name="AWS_ENDPOINT_URL", value="http://moto:5000")
    plain = [f for f in chain if f.name in ("withExec", "withEnvVariable")]
    assert PLANTED not in repr([f.args for f in plain]) and PLANTED not in json.dumps(step.plan())
    other = DaggerExecutor(dag.directory())
    assert not find(other.step_container(other.tool_base(step), step), "withSecretVariable")  # nothing given there
    assert "npm" not in render(executor.tool_base(step))  # no dependency install of the app


def test_the_function_is_never_cached_and_takes_secrets_as_secrets():
    fn = Ci.__dagger_object_type__.functions["preview_changes"]
    assert fn.cache_policy == "never"
    kinds = {p.name: (p.resolved_type.__name__ if hasattr(p.resolved_type, "__name__") else str(p.resolved_type))
             for p in fn.parameters.values()}
    for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "oidc_request_token"):
        assert "Secret" in str(fn.parameters[name].resolved_type), kinds
    assert "Secret" not in str(fn.parameters["aws_role_arn"].resolved_type)


def test_credential_secret_names_are_the_flags():
    assert set(credentials.CREDENTIAL_SECRETS.values()) == {"aws-access-key-id", "aws-secret-access-key",
                                                            "aws-session-token"}
