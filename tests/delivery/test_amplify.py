"""ci.delivery.amplify: the manual deployment of a site zip, every call and answer checked by botocore's Stubber
against Amplify's service model (moto has no Amplify), the runtime config.json, and the upload's PUT."""

from __future__ import annotations

import io
import json
import urllib.error
import zipfile
from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from ci.delivery import amplify
from ci.delivery.phases import PhaseFailed, PhaseTimeout
from tests.delivery.fake_time import FakeTime
from tests.delivery.local_http import Answer, serve

APP, BRANCH, JOB = "d1a2b3c4d5", "main", "3"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
UPLOAD_URL = "https://aws-amplify-prod.s3.amazonaws.com/d1/main/3.zip?X-Amz-Signature=abc123"
LOG_URL = "https://aws-amplify-prod-logs.s3.amazonaws.com/d1/3/DEPLOY.txt?X-Amz-Signature=def456"
SITE = b"PK-not-really"
KEYS = {"appId": APP, "branchName": BRANCH, "jobId": JOB}


@pytest.fixture
def stubbed():
    client = boto3.client("amplify", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _summary(status: str) -> dict:
    return {"jobArn": f"arn:aws:amplify:us-east-1:123456789012:apps/{APP}/branches/{BRANCH}/jobs/{JOB}",
            "jobId": JOB, "commitId": "manual", "commitMessage": "Manual deployment", "commitTime": NOW,
            "startTime": NOW, "status": status, "jobType": "MANUAL"}


def _step(name: str, status: str, reason: str | None = None) -> dict:
    step = {"stepName": name, "startTime": NOW, "status": status, "endTime": NOW, "logUrl": LOG_URL}
    return step | ({"statusReason": reason} if reason else {})


def _job(status: str, steps: tuple[dict, ...] = ()) -> dict:
    return {"job": {"summary": _summary(status), "steps": list(steps)}}


def _started(stubber: Stubber) -> None:
    """create_deployment (asserting its values) and start_deployment (its shape validated by botocore alone)."""
    stubber.add_response("create_deployment", {"jobId": JOB, "fileUploadUrls": {}, "zipUploadUrl": UPLOAD_URL},
                         {"appId": APP, "branchName": BRANCH})
    stubber.add_response("start_deployment", {"jobSummary": _summary("PENDING")})


def _deploy(client, fake: FakeTime, lines: list[str], put=None, timeout_s: float = 900) -> str:
    sent: list[tuple[str, bytes]] = []
    job = amplify.deploy_zip(client, APP, BRANCH, SITE, put or (lambda url, data: sent.append((url, data))),
                             timeout_s, 5, fake.clock, fake.sleep, lines.append)
    assert put or sent == [(UPLOAD_URL, SITE)]
    return job


def test_a_job_that_succeeds_gives_its_id_and_one_progress_line_per_status(stubbed):
    client, stubber = stubbed
    _started(stubber)
    stubber.add_response("get_job", _job("PENDING"), KEYS)
    for status in ("RUNNING", "RUNNING", "SUCCEED"):
        stubber.add_response("get_job", _job(status, (_step("DEPLOY", status),)))
    fake, lines = FakeTime(), []
    assert _deploy(client, fake, lines) == JOB
    assert lines == [f"frontend: Amplify job {JOB} PENDING (0 s)", f"frontend: Amplify job {JOB} RUNNING (5 s)",
                     f"frontend: Amplify job {JOB} SUCCEED (15 s)"]
    assert fake.slept == [5, 5, 5]


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_a_job_that_fails_names_its_failed_step_and_reason_never_the_presigned_urls(stubbed, status):
    client, stubber = stubbed
    _started(stubber)
    stubber.add_response("get_job", _job("RUNNING"))
    stubber.add_response("get_job", _job(status, (_step("BUILD", "SUCCEED"),
                                                  _step("DEPLOY", status, "The zip has no index.html"))))
    with pytest.raises(PhaseFailed) as failed:
        _deploy(client, FakeTime(), [])
    assert type(failed.value) is PhaseFailed and failed.value.exit_code == 1
    assert failed.value.phase == "frontend"
    assert str(failed.value) == (f"frontend: the Amplify job {JOB} of app {APP} branch {BRANCH} ended {status} (step "
                                 f"DEPLOY {status}: The zip has no index.html)")
    assert failed.value.evidence == (f"step DEPLOY {status}: The zip has no index.html",
                                     f"logs: the Amplify console, app {APP} branch {BRANCH} job {JOB}")
    assert "Signature" not in str(failed.value) + "".join(failed.value.evidence)


def test_a_job_still_running_at_the_timeout_is_stopped(stubbed):
    client, stubber = stubbed
    _started(stubber)
    for _ in range(4):  # at 0, 5, 10 s and, the last sleep cut to what is left, 12 s
        stubber.add_response("get_job", _job("RUNNING"))
    stubber.add_response("stop_job", {"jobSummary": _summary("CANCELLING")}, KEYS)
    fake = FakeTime()
    with pytest.raises(PhaseTimeout) as timed_out:
        _deploy(client, fake, [], timeout_s=12)
    assert str(timed_out.value) == f"frontend: the Amplify job {JOB} was still RUNNING after 12 s; it was stopped"
    assert timed_out.value.phase == "frontend" and timed_out.value.exit_code == 1
    assert fake.slept == [5, 5, 2]


def test_a_timeout_whose_stop_fails_says_to_stop_it_by_hand(stubbed):
    client, stubber = stubbed
    _started(stubber)
    stubber.add_response("get_job", _job("PROVISIONING"))
    stubber.add_client_error("stop_job", "BadRequestException", "Job 3 cannot be stopped")
    with pytest.raises(PhaseTimeout) as timed_out:
        _deploy(client, FakeTime(), [], timeout_s=0)
    assert str(timed_out.value) == (
        f"frontend: the Amplify job {JOB} was still PROVISIONING after 0 s; stopping it failed: BadRequestException: "
        "An error occurred (BadRequestException) when calling the StopJob operation: Job 3 cannot be stopped; stop "
        "it in the Amplify console")


def test_a_refused_create_deployment_names_the_call_app_and_branch(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("create_deployment", "NotFoundException", f"App {APP} not found")
    with pytest.raises(PhaseFailed) as failed:
        _deploy(client, FakeTime(), [])
    assert str(failed.value) == (
        f"frontend: Amplify create_deployment for app {APP} branch {BRANCH} failed: NotFoundException: An error "
        f"occurred (NotFoundException) when calling the CreateDeployment operation: App {APP} not found; check the "
        "environment's amplify app_id and branch, and that its credentials may deploy to that app")


def test_a_failed_job_without_a_failed_step_points_to_the_console(stubbed):
    client, stubber = stubbed
    _started(stubber)
    stubber.add_response("get_job", _job("CANCELLED"))
    with pytest.raises(PhaseFailed) as failed:
        _deploy(client, FakeTime(), [])
    assert str(failed.value).endswith(f"ended CANCELLED (logs: the Amplify console, app {APP} branch {BRANCH} job "
                                      f"{JOB})")


def test_a_deployment_without_a_job_id_is_refused(stubbed):
    client, stubber = stubbed
    stubber.add_response("create_deployment", {"fileUploadUrls": {}, "zipUploadUrl": UPLOAD_URL})
    with pytest.raises(PhaseFailed, match=r"^frontend: Amplify app d1a2b3c4d5 branch main gave no job id"):
        _deploy(client, FakeTime(), [])


def test_a_failed_upload_stops_before_start_deployment_and_hides_the_url(stubbed):
    client, stubber = stubbed
    stubber.add_response("create_deployment", {"jobId": JOB, "fileUploadUrls": {}, "zipUploadUrl": UPLOAD_URL})

    def refused(url: str, data: bytes) -> None:
        raise urllib.error.HTTPError(url, 403, "Forbidden", None, None)  # type: ignore[arg-type]

    with pytest.raises(PhaseFailed) as failed:
        _deploy(client, FakeTime(), [], put=refused)
    assert str(failed.value) == (f"frontend: uploading the zip of Amplify job {JOB} failed: HTTPError: HTTP Error 403: "
                                 "Forbidden")


def test_a_call_of_the_wrong_shape_is_caught_by_the_model_not_hidden_as_a_phase_failure(stubbed):
    client, stubber = stubbed
    stubber.add_response("get_job", _job("RUNNING"))
    with pytest.raises(ParamValidationError, match='Unknown parameter in input: "jobID"'):
        amplify._call(client, "get_job", APP, BRANCH, appId=APP, branchName=BRANCH, jobID=JOB)
    # the queued answer is still there (botocore refused the call before it): the right call takes it
    assert amplify._call(client, "get_job", APP, BRANCH, **KEYS)["job"]["summary"]["status"] == "RUNNING"


def test_site_url_is_the_branch_on_the_apps_default_domain(stubbed):
    client, stubber = stubbed
    app = {"appId": APP, "appArn": f"arn:aws:amplify:us-east-1:123456789012:apps/{APP}", "name": "coagent",
           "description": "", "repository": "", "platform": "WEB", "createTime": NOW, "updateTime": NOW,
           "environmentVariables": {}, "defaultDomain": f"{APP}.amplifyapp.com", "enableBranchAutoBuild": False,
           "enableBasicAuth": False}
    stubber.add_response("get_app", {"app": app}, {"appId": APP})
    assert amplify.site_url(client, APP, "feature/listings") == f"https://feature-listings.{APP}.amplifyapp.com"


def _zip(entries: dict[str, tuple[bytes, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, (data, compression) in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 9, 15, 0)), data, compression)
    return out.getvalue()


def test_runtime_config_replaces_config_json_and_keeps_every_other_entry_as_it_was():
    site = _zip({"index.html": (b"<html>listings</html>", zipfile.ZIP_DEFLATED),
                 "config.json": (b'{"apiUrl": "https://build-time"}', zipfile.ZIP_STORED),
                 "_next/static/app.js": (b"console.log(1)" * 50, zipfile.ZIP_STORED)})
    rebuilt = amplify.with_runtime_config(site, {"region": "eu-west-1", "apiUrl": "https://api.example/Prod/"})
    with zipfile.ZipFile(io.BytesIO(site)) as before, zipfile.ZipFile(io.BytesIO(rebuilt)) as after:
        assert after.namelist() == ["index.html", "_next/static/app.js", "config.json"]
        for name in ("index.html", "_next/static/app.js"):
            old, new = before.getinfo(name), after.getinfo(name)
            assert after.read(name) == before.read(name)
            assert (new.date_time, new.compress_type, new.CRC) == (old.date_time, old.compress_type, old.CRC)
        assert after.read("config.json") == (b'{\n  "apiUrl": "https://api.example/Prod/",\n  "region": '
                                             b'"eu-west-1"\n}\n')
        assert json.loads(after.read("config.json")) == {"apiUrl": "https://api.example/Prod/", "region": "eu-west-1"}
    assert amplify.with_runtime_config(site, {"region": "eu-west-1", "apiUrl": "https://api.example/Prod/"}) == rebuilt


def test_runtime_config_refuses_what_is_not_a_zip():
    with pytest.raises(PhaseFailed) as failed:
        amplify.with_runtime_config(b"<html>not a zip</html>", {})
    assert str(failed.value) == ("frontend: the frontend zip is not a valid zip archive (File is not a zip file); "
                                 "package a release whose frontend is the static export (`out/`)")


def test_runtime_config_refuses_a_zip_whose_entry_is_corrupt():
    site = _zip({"index.html": (b"<html>hello</html>", zipfile.ZIP_STORED)}).replace(b"hello", b"jello")
    with pytest.raises(PhaseFailed, match=r"not a valid zip archive \(Bad CRC-32 for file 'index.html'\)"):
        amplify.with_runtime_config(site, {})


@pytest.mark.parametrize(("entries", "hint"), [
    ({"out/index.html": b"<html/>", "out/404.html": b"x"},
     " (it has out/index.html: zip the export's contents, not its folder)"),
    ({"404.html": b"x"}, ""),
])
def test_runtime_config_refuses_a_zip_without_index_html_at_its_root(entries, hint):
    site = _zip({name: (data, zipfile.ZIP_DEFLATED) for name, data in entries.items()})
    with pytest.raises(PhaseFailed) as failed:
        amplify.with_runtime_config(site, {})
    assert str(failed.value) == (f"frontend: the frontend zip has no index.html at its root{hint}; a static export "
                                 "(`next build` with output: 'export') has one")


def test_http_put_sends_the_zip_as_application_zip_and_raises_on_a_refusal():
    with serve(lambda n, path: Answer(200 if n == 0 else 403)) as (url, seen):
        amplify.http_put(f"{url}/upload?X-Amz-Signature=abc", b"zip bytes")
        with pytest.raises(urllib.error.HTTPError, match="HTTP Error 403"):
            amplify.http_put(f"{url}/upload", b"again")
    method, path, headers, body = seen.requests[0]
    assert (method, path, headers["Content-Type"], body) == ("PUT", "/upload?X-Amz-Signature=abc", "application/zip",
                                                             b"zip bytes")
