"""The approval timeout: GitHub fails a job waiting for approval only after 30 days, so a deploy refuses itself when
its run waited longer than the environment's `approval_timeout_hours` (from the run's start to the deploy job's
start, read from the Actions API). `check-approval` runs it alone; `deploy` calls `approval_check` first."""

from __future__ import annotations

import time
from dataclasses import dataclass

import anyio

from ci.config.model import Environment
from ci.core.errors import UsageError
from ci.core.executor import Executor
from ci.core.report import Report, StepResult
from ci.delivery import target
from ci.integrations.github_rest import API_URL, Client, Transport, urllib_transport
from ci.integrations.github_runs import approval_wait
from ci.pipeline.runner import load

STEP_ID = "approval/timeout"


def duration(seconds: float) -> str:
    """`3 h 12 min`, `48 h`, `0 min`."""
    minutes = int(seconds // 60)
    hours, rest = divmod(minutes, 60)
    return " ".join(filter(None, (f"{hours} h" if hours else "", f"{rest} min" if rest or not hours else "")))


@dataclass(frozen=True)
class Waited:
    """How long the run waited before the deploy job started, against the environment's limit (None: no limit)."""

    environment: str
    seconds: float | None
    limit_hours: float | None

    @property
    def over(self) -> bool:
        return self.limit_hours is not None and self.seconds is not None and self.seconds > self.limit_hours * 3600

    @property
    def line(self) -> str:
        if self.limit_hours is None:
            return f"{self.environment} has no approval timeout (environments.{self.environment}.approval_timeout_hours)"
        waited, limit = duration(self.seconds or 0), duration(self.limit_hours * 3600)
        if self.over:
            return (f"the run waited {waited} for its approvals, over {self.environment}'s approval timeout of "
                    f"{limit}; start a new run (re-run the workflow) and approve it in time")
        return f"waited {waited} of {limit}"


def approval_check(environment: Environment, env_name: str, client: Client | None, run_id: str,
                   job_name: str) -> Waited:
    """The wait of run `run_id` up to the start of its job `job_name`, against `approval_timeout_hours`; nothing is
    asked of GitHub when the environment has no timeout. UsageError when a timeout is set but the run, the job or
    the token is not given."""
    limit = environment.approval_timeout_hours
    if limit is None:
        return Waited(env_name, None, None)
    missing = [flag for flag, given in (("--github-run-id", run_id), ("--github-job", job_name),
                                        ("--github-token", client)) if not given]
    if missing:
        raise UsageError(f"{', '.join(missing)}: {env_name} has an approval timeout of {duration(limit * 3600)}; "
                         "give the run id (${{ github.run_id }}), this job's name and a token with actions: read")
    return Waited(env_name, approval_wait(client, run_id, job_name), limit)


async def check_approval(executor: Executor, env_name: str, run_id: str, job_name: str, token: str | None,
                         repository: str, api_url: str = "", transport: Transport = urllib_transport) -> Report:
    """`check-approval`: the approval timeout alone, as a report (failed, environment unchanged, when over)."""
    config = await load(executor)
    environment = target.environment(config, env_name)
    client = Client(repository, token, transport, api_url or API_URL) if token else None
    started = time.monotonic()
    waited = await anyio.to_thread.run_sync(approval_check, environment, env_name, client, run_id, job_name)
    step = StepResult(STEP_ID, "github", "failed" if waited.over else "passed", reason=waited.line,
                      duration_s=time.monotonic() - started)
    delivery = {"environment": env_name, "reason": waited.line, "waited_s": waited.seconds,
                "approval_timeout_hours": waited.limit_hours}
    return Report("check_approval", (step,), (), duration_s=step.duration_s, stages={"check_approval": (STEP_ID,)},
                  outcome="unchanged" if waited.over else None, delivery=delivery)
