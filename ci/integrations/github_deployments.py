"""GitHub deployments and their statuses for a deploy or rollback, plain data in and out.

A job with `environment:` makes a deployment of its own when it starts, whose statuses link to the run; that one
is reused so the environment shows one deployment per run. Without one (a job without `environment:`, bayon on a
laptop) a deployment is created: no auto-merge of the default branch, no required status checks (the pipeline
already checked the commit).
"""

from __future__ import annotations

import re
from typing import Any

from ci.core.text import fit
from ci.integrations.github_rest import Client

DEPLOYMENTS_WRITE = "deployments: write"
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
MAX_DESCRIPTION = 140
"""GitHub keeps a status's description to 140 characters."""


def _short(text: str) -> str:
    return fit(" ".join(text.split()), MAX_DESCRIPTION)


def _of_run(client: Client, deployment: dict[str, Any], run_id: str) -> bool:
    """Whether the deployment belongs to the workflow run: a status links to it, or bayon recorded it."""
    payload = deployment.get("payload")
    if isinstance(payload, dict) and str(payload.get("run_id", "")) == str(run_id):
        return True
    link = re.compile(f"/actions/runs/{re.escape(str(run_id))}(?:[/?#]|$)")  # run 12 is not run 123
    statuses = client.pages(f"{{repo}}/deployments/{deployment['id']}/statuses", permission=DEPLOYMENTS_WRITE)
    return any(link.search(s.get("log_url") or "") or link.search(s.get("target_url") or "") for s in statuses)


def find_or_create(client: Client, environment: str, sha: str, ref: str, run_id: str, description: str,
                   production: bool = False) -> int:
    """The id of the deployment of `sha` to `environment` that run `run_id` made (Actions, for a job with
    `environment:`), else of a new one (`ref`: the tag or branch deployed, else the sha)."""
    if run_id:
        for deployment in client.pages("{repo}/deployments", permission=DEPLOYMENTS_WRITE,
                                       query={"environment": environment, "sha": sha}):
            if _of_run(client, deployment, run_id):
                return int(deployment["id"])
    body = {"ref": ref or sha, "auto_merge": False, "required_contexts": [], "environment": environment,
            "description": _short(description), "production_environment": production,
            "payload": {"run_id": str(run_id)} if run_id else {}}
    return int(client.call("POST", "{repo}/deployments", body, ok=(201,), permission=DEPLOYMENTS_WRITE).data["id"])


def status(client: Client, deployment_id: int, state: str, description: str, environment_url: str = "",
           log_url: str = "") -> dict[str, Any]:
    """A new status of the deployment (`state`: one of STATES); earlier deployments of a non-production
    environment turn inactive on success (GitHub's auto_inactive)."""
    if state not in STATES:
        raise ValueError(f"deployment state {state!r}: one of {', '.join(STATES)}")
    body: dict[str, Any] = {"state": state, "description": _short(description)}
    if environment_url:
        body["environment_url"] = environment_url
    if log_url:
        body["log_url"] = log_url
    return client.call("POST", f"{{repo}}/deployments/{deployment_id}/statuses", body, ok=(201,),
                       permission=DEPLOYMENTS_WRITE).data
