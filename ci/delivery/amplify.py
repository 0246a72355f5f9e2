"""The static frontend on Amplify Hosting through a manual deployment: the release's zip, with the environment's
runtime `config.json` at its root, uploaded to the URL create_deployment gives, started, and its job polled.

The upload URL and the steps' log URLs are presigned (they carry a signature): they are never printed or kept.
"""

from __future__ import annotations

import http.client
import io
import json
import urllib.request
import zipfile
from collections.abc import Callable, Mapping

from ci.core.errors import one_line
from ci.delivery.phases import FRONTEND, PhaseFailed, PhaseTimeout, aws_call

CONFIG_NAME = "config.json"
INDEX = "index.html"
DONE = "SUCCEED"
FAILED = ("FAILED", "CANCELLED")
UPLOAD_TIMEOUT_S = 300
CONFIG_DATE = (1980, 1, 1, 0, 0, 0)
"""config.json's date in the zip: one release and one config give the same bytes."""


def with_runtime_config(site_zip: bytes, values: Mapping[str, object]) -> bytes:
    """The site zip with `config.json` (sorted, indented JSON of `values`) at its root, replacing one already there;
    every other entry is copied as it is (same name, bytes, date and compression). Not a zip, or no index.html at
    its root: PhaseFailed saying how to fix the export."""
    body = (json.dumps(dict(values), sort_keys=True, indent=2) + "\n").encode()
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(site_zip)) as source, zipfile.ZipFile(out, "w") as target:
            _require_index(source.namelist())
            for info in source.infolist():
                if info.filename != CONFIG_NAME:
                    target.writestr(info, source.read(info))
            entry = zipfile.ZipInfo(CONFIG_NAME, date_time=CONFIG_DATE)
            entry.external_attr = 0o644 << 16  # rw-r--r--, as unzip shows it
            target.writestr(entry, body, zipfile.ZIP_DEFLATED)
    except zipfile.BadZipFile as exc:
        raise PhaseFailed(FRONTEND, f"the frontend zip is not a valid zip archive ({exc}); package a release "
                                    "whose frontend is the static export (`out/`)") from None
    return out.getvalue()


def _require_index(names: list[str]) -> None:
    """A static export has index.html at its root; a zip of the `out/` folder itself has it one level down."""
    if INDEX not in names:
        nested = sorted(n for n in names if n.endswith(f"/{INDEX}"))
        hint = f" (it has {nested[0]}: zip the export's contents, not its folder)" if nested else ""
        raise PhaseFailed(FRONTEND, f"the frontend zip has no {INDEX} at its root{hint}; a static export (`next "
                                    "build` with output: 'export') has one")


def http_put(url: str, data: bytes) -> None:
    """PUT the zip to Amplify's presigned upload URL (a non-2xx answer raises urllib's HTTPError)."""
    request = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": "application/zip"})
    urllib.request.urlopen(request, timeout=UPLOAD_TIMEOUT_S).close()


def site_url(amplify, app_id: str, branch: str) -> str:
    """The branch's URL, `https://<branch>.<app's default domain>` (Amplify writes a `/` in a branch name as `-`)."""
    domain = _call(amplify, "get_app", app_id, branch, appId=app_id)["app"]["defaultDomain"]
    return f"https://{branch.replace('/', '-')}.{domain}"


def deploy_zip(amplify, app_id: str, branch: str, site_zip: bytes, put: Callable[[str, bytes], None],
               timeout_s: float, delay_s: float, clock: Callable[[], float], sleep: Callable[[float], None],
               progress: Callable[[str], None]) -> str:
    """Deploy the zip to the branch and wait for its job; the job id. FAILED or CANCELLED: PhaseFailed with the
    failed steps as evidence; still going after `timeout_s`: the job is stopped and PhaseTimeout raised."""
    started = clock()
    created = _call(amplify, "create_deployment", app_id, branch, appId=app_id, branchName=branch)
    job_id = created.get("jobId")
    if not job_id:
        raise PhaseFailed(FRONTEND, f"Amplify app {app_id} branch {branch} gave no job id for the deployment; is it "
                                    "a manual-deployment branch (not connected to a repository)?")
    try:
        put(created["zipUploadUrl"], site_zip)
    except (OSError, http.client.HTTPException) as exc:  # urllib's errors: their text names no URL
        raise PhaseFailed(FRONTEND, f"uploading the zip of Amplify job {job_id} failed: {one_line(exc)}") from None
    _call(amplify, "start_deployment", app_id, branch, appId=app_id, branchName=branch, jobId=job_id)
    shown = None
    while True:
        job = _call(amplify, "get_job", app_id, branch, appId=app_id, branchName=branch, jobId=job_id)["job"]
        status = job["summary"]["status"]
        waited = clock() - started
        if status != shown:
            progress(f"{FRONTEND}: Amplify job {job_id} {status} ({waited:.0f} s)")
            shown = status
        if status == DONE:
            return job_id
        if status in FAILED:
            evidence = _failed_steps(job, app_id, branch, job_id)
            raise PhaseFailed(FRONTEND, f"the Amplify job {job_id} of app {app_id} branch {branch} ended {status} "
                                        f"({evidence[0]})", evidence)
        if waited >= timeout_s:
            raise PhaseTimeout(FRONTEND, f"the Amplify job {job_id} was still {status} after {timeout_s:.0f} s; "
                                         f"{_stop(amplify, app_id, branch, job_id)}")
        sleep(min(delay_s, max(timeout_s - waited, 0)))


def _failed_steps(job: Mapping, app_id: str, branch: str, job_id: str) -> tuple[str, ...]:
    """One line per step that failed or was cancelled (its name, status and reason), then where its logs are."""
    lines = [f"step {step['stepName']} {step['status']}: {step.get('statusReason') or 'no reason given'}"
             for step in job["steps"] if step["status"] in FAILED]
    return (*lines, f"logs: the Amplify console, app {app_id} branch {branch} job {job_id}")


def _stop(amplify, app_id: str, branch: str, job_id: str) -> str:
    """Stop the job; what happened, for the timeout's message."""
    try:
        aws_call(FRONTEND, "stopping it failed", "stop it in the Amplify console",
                 lambda: amplify.stop_job(appId=app_id, branchName=branch, jobId=job_id))
    except PhaseFailed as exc:
        return exc.reason
    return "it was stopped"


def _call(amplify, operation: str, app_id: str, branch: str, **params) -> dict:
    """One Amplify call; a service error becomes PhaseFailed naming the call, the app and the branch."""
    return aws_call(FRONTEND, f"Amplify {operation} for app {app_id} branch {branch} failed",
                    "check the environment's amplify app_id and branch, and that its credentials may deploy to that "
                    "app", lambda: getattr(amplify, operation)(**params))
