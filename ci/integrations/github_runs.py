"""How long a workflow run waited for its approvals: from the run's start to the start of the job that deploys.

GitHub fails a job that waits for approval only after 30 days, so a shorter approval timeout is enforced by the
deploy itself from what the Actions API says: the run's `run_started_at` (its `created_at` when absent) and the
job's `started_at`, both of the run's latest attempt. GitHub resets `run_started_at` when a run is re-run, so a
re-run attempt starts its own clock: a run refused for waiting too long is re-run and approved in time.
"""

from __future__ import annotations

from datetime import datetime

from ci.core.errors import UsageError
from ci.integrations.github_rest import Client, GitHubError

ACTIONS_READ = "actions: read"


def _time(value: object, what: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise GitHubError(f"GitHub gave {what} as {value!r}, not a time; retry later") from None


def approval_wait(client: Client, run_id: str, job_name: str) -> float:
    """Seconds between the start of the run's latest attempt and the start of its job `job_name` in that attempt."""
    if not str(run_id).isdigit():
        raise UsageError(f"--github-run-id {run_id!r}: give the run's number (in Actions: ${{{{ github.run_id }}}})")
    run = client.call("GET", f"{{repo}}/actions/runs/{run_id}", ok=(200,), permission=ACTIONS_READ).data
    jobs = [job for job in client.pages(f"{{repo}}/actions/runs/{run_id}/jobs", "jobs", permission=ACTIONS_READ,
                                        query={"filter": "latest"}) if job.get("name") == job_name]
    if not jobs:
        raise UsageError(f"--github-job {job_name!r}: run {run_id} has no job of that name; give the job's name as "
                         "the run shows it (its `name:`, else its id in the workflow)")
    job = max(jobs, key=lambda j: (j.get("run_attempt") or 0, j.get("id") or 0))
    if not job.get("started_at"):
        raise GitHubError(f"job {job_name!r} of run {run_id} has not started; check --github-job names this job")
    started = _time(run.get("run_started_at") or run.get("created_at"), "the run's start")
    return max(0.0, (_time(job["started_at"], "the job's start") - started).total_seconds())
