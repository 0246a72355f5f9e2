"""package end to end on the sample app against a real moto_server: `sam build` + `sam package` under the release's
prefix and `next build`'s static export zipped, stored with a manifest written once; packaging the same commit again
rebuilds nothing; that real release then deployed to moto (the emulator profile), its frontend zip given this
environment's config.json (Amplify through botocore's Stubber), the table smoke-checked; promoted to a second bucket
with other credentials."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from ci.config import load_config
from ci.core.errors import UsageError
from ci.delivery import credentials, package, release
from ci.delivery.aws import clients
from ci.delivery.clients import Target
from ci.delivery.context import Context
from ci.delivery.deploy import Request, deploy
from ci.delivery.phase_log import PhaseLog
from ci.delivery.promote import promote
from ci.executors.local import LocalExecutor
from ci.output.render import dumps
from ci.pipeline import deliver
from tests.apps import copy_app
from tests.delivery.conftest import REGION, moto_client
from tests.delivery.deploy_world import APP, BRANCH, JOB, UPLOAD_URL, _summary

SHARES_MOTO = True

COMMIT = "c0ffee" + "0" * 34
BUCKET, PROMOTED, STACK = "coagent-pkg-artifacts", "coagent-pkg-promoted", "coagent-pkg"
KEY_ID, SECRET = "AKIAPLANTEDPACKAGE01", "planted-package-secret-4a7b"


def _configured(app: Path, url: str) -> None:
    config = yaml.safe_load((app / "pipeline.yaml").read_text())
    base = {"region": REGION, "endpoint_url": url, "runtime_config": {}, "monitoring_minutes": 0,
            "smoke": [{"table": "ListingsTable"}, {"bucket": "ListingsBucket"}]}
    config["environments"] = {
        "emu": {**base, "stack_name": STACK, "artifacts_bucket": BUCKET, "amplify": {"app_id": APP, "branch": BRANCH},
                "parameters": {}},
        "next": {**base, "stack_name": f"{STACK}-next", "artifacts_bucket": PROMOTED}}
    config.pop("notifications")  # the sample's name its own environments, replaced here
    (app / "pipeline.yaml").write_text(yaml.safe_dump(config))


def _package(app: Path):
    async def main():
        async with LocalExecutor(app) as local:
            return await deliver.package(local, "emu", credentials.Given(KEY_ID, SECRET), COMMIT, ["rc-0.1.0"])

    return asyncio.run(main())


@pytest.fixture(scope="module")
def packaged(tmp_path_factory, moto_url):
    app = copy_app(tmp_path_factory.mktemp("package") / "coagent")
    _configured(app, moto_url)
    s3 = moto_client(moto_url, "s3")
    for bucket in (BUCKET, PROMOTED):
        s3.create_bucket(Bucket=bucket)
    return app, _package(app)


def test_the_release_holds_the_portable_template_parameters_zipped_site_and_code(packaged, moto_url):
    _, report = packaged
    assert report.passed, [(s.id, s.status, s.reason) for s in report.steps]
    assert [s.id for s in report.steps][-1] == package.STORE_ID
    found = release.manifest(moto_client(moto_url, "s3"), BUCKET, "rc-0.1.0")
    names = {o.name for o in found.objects}
    assert {release.TEMPLATE, release.PARAMETERS, release.FRONTEND} <= names
    code = [n for n in names if n.startswith("code/")]
    assert code, names
    files = release.fetch(moto_client(moto_url, "s3"), BUCKET, found, [release.TEMPLATE, release.FRONTEND])
    template = json.loads(files[release.TEMPLATE])
    assert BUCKET not in json.dumps(template) and release.BUCKET_MARKER in json.dumps(template)
    with zipfile.ZipFile(io.BytesIO(files[release.FRONTEND])) as site:
        assert {"index.html", "about.html"} <= set(site.namelist())
    assert KEY_ID not in dumps(report) and SECRET not in dumps(report)


def test_packaging_the_same_commit_again_rebuilds_nothing(packaged):
    app, _ = packaged
    again = _package(app)
    assert [s.id for s in again.steps] == [package.STORE_ID]
    assert "already stored" in again.steps[0].reason and "nothing rebuilt" in again.steps[0].reason


def test_the_real_release_deploys_to_the_emulator_with_its_runtime_config(packaged, moto_url):
    app, _ = packaged
    environment = load_config((app / "pipeline.yaml").read_text()).environments["emu"]
    session = boto3.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name=REGION)
    amplify_client = boto3.client("amplify", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    uploads: list[bytes] = []
    aws = replace(clients(session, Target(REGION, moto_url, max_attempts=1)), amplify=amplify_client,
                  put=lambda url, data: uploads.append(data))
    keys = {"appId": APP, "branchName": BRANCH}
    with Stubber(amplify_client) as stubber:
        stubber.add_response("create_deployment", {"jobId": JOB, "fileUploadUrls": {}, "zipUploadUrl": UPLOAD_URL},
                             keys)
        stubber.add_response("start_deployment", {"jobSummary": _summary("PENDING")}, {**keys, "jobId": JOB})
        stubber.add_response("get_job", {"job": {"summary": _summary("SUCCEED"), "steps": []}})
        found = deploy(aws, Context("emu", environment, delay_s=1), Request("rc-0.1.0"), PhaseLog(print))
    assert (found.outcome, found.passed) == ("deployed", True), [(s.id, s.reason) for s in found.steps]
    assert "2 smoke check(s) passed" in next(s for s in found.steps if s.id == "deploy/smoke").reason
    with zipfile.ZipFile(io.BytesIO(uploads[0])) as site:
        config = json.loads(site.read("config.json"))
    assert config["release"] == COMMIT and "index.html" in site.namelist()


def test_promote_copies_the_release_with_other_credentials_and_verifies_it(packaged, moto_url):
    app, _ = packaged
    config = load_config((app / "pipeline.yaml").read_text())

    def side(name: str, key: str):
        session = boto3.Session(aws_access_key_id=key, aws_secret_access_key="x", region_name=REGION)
        return Context(name, config.environments[name]), clients(session, Target(REGION, moto_url, max_attempts=1))

    first = promote(side("emu", "AKIASOURCE0000000001"), side("next", "AKIATARGET0000000002"), "rc-0.1.0")
    assert first.passed and "copied" in first.steps[0].reason
    again = promote(side("emu", "AKIASOURCE0000000001"), side("next", "AKIATARGET0000000002"), COMMIT)
    assert again.passed and "already in" in again.steps[0].reason
    source = release.manifest(moto_client(moto_url, "s3"), BUCKET, COMMIT)
    copied = release.manifest(moto_client(moto_url, "s3"), PROMOTED, "rc-0.1.0")
    assert copied == source


def test_a_server_rendered_frontend_is_refused_by_name():
    """The build step's report files say it wrote no static export: the release is refused, naming why."""
    step = SimpleNamespace(id="build/next")
    site = package.Site(step, "out", lambda files: f"next build wrote no out/ ({sorted(files)})")
    built = SimpleNamespace(artifacts={"build/next/bundle-sizes.json": b"{}"})
    with pytest.raises(UsageError, match=r"no out/ \(\['bundle-sizes.json'\]\); a server-rendered frontend cannot "
                                         "be deployed: Amplify's manual deployments take static sites only"):
        asyncio.run(package._frontend(None, site, built))
