"""`accept --env NAME --release REF`: the spec's end-to-end and performance checks of a release once it is deployed
(staging after its deploy): the app's deployed-stack tests (tests.integration.deployed_config, the stack's outputs
as STACK_<OutputKey> and the environment's credentials given to that one step) and then, alone on the machine,
Lighthouse against the environment's site URL; given a token and the rc tag, that tag's GitHub release is then
published as ready (the spec's mark-release-ready). It first checks that the environment runs that release:
accepting what is not deployed would judge another release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import anyio

from ci.core.errors import UsageError, unwrap_groups
from ci.core.executor import Executor
from ci.core.report import Report, StepResult
from ci.core.scheduler import run_steps
from ci.delivery import credentials, observe
from ci.delivery.aws import connect
from ci.delivery.outcome import report as delivery_report
from ci.delivery.phase_log import PhaseLog
from ci.integrations.github_rest import Client
from ci.pipeline import github_records
from ci.pipeline.runner import audited_url, load, setup_of, with_runs
from ci.stages.performance import lighthouse as lh
from ci.stages.tests import integration

FUNCTION = "accept"
PARTS = ("integration", "lighthouse")
"""What `--skip` may leave out."""


@unwrap_groups
async def accept(executor: Executor, env_name: str, given: credentials.Given, ref: str,
                 skip: Sequence[str] = (), runs: int = 0, github: Client | None = None, tag: str = "") -> Report:
    """The deployed-stack tests, then Lighthouse on the site; `skip` leaves parts out (reported skipped); with
    `tag` (an rc tag) and a GitHub client, that tag's release published as ready when all passed."""
    if tag:
        github_records.rc_tag(tag)
    if not ref.strip():
        raise UsageError("--release: name the deployed release to accept, its id (the commit's full SHA) or a tag")
    unknown = sorted(set(skip) - set(PARTS))
    if unknown:
        raise UsageError(f"--skip {unknown[0]}: accept has the parts {', '.join(PARTS)}")
    config = with_runs(await load(executor), runs)
    ctx, aws = await anyio.to_thread.run_sync(connect, config, env_name, given)
    log = PhaseLog()
    outputs = await anyio.to_thread.run_sync(observe.running, aws, ctx, ref, log, tag)
    checked = delivery_report(FUNCTION, ctx, log)
    if outputs is None:
        return await github_records.publish_ready(checked, github, tag)
    executor.give_secrets(credentials.secret_values(aws.session))
    environment = ctx.environment
    tests = integration.deployed_step(config, env_name, outputs, environment.region, aws.where.endpoint_url,
                                      credentials.CREDENTIAL_SECRETS)
    parts = [await _part(executor, config, [tests], "integration" in skip, "--skip integration")]
    url = environment.site_url
    audits = lh.site_steps(config, audited_url(url) if url else "", env_name)
    no_site = (None if url else f"environments.{env_name} has no url and no amplify app: nothing to audit; set "
               f"environments.{env_name}.url")
    parts.append(await _part(executor, config, audits, "lighthouse" in skip, "--skip lighthouse", no_site))
    return await github_records.publish_ready(_combined(checked, parts), github, tag, tuple(skip))


async def _part(executor: Executor, config, steps, skipped: bool, flag: str, why_not: str | None = None) -> Report:
    """One part run on its own (Lighthouse never beside the tests), or its steps reported skipped when `flag` left
    it out. A part that cannot run (`why_not`, or the app lacks its config) fails: an acceptance without evidence is
    no acceptance; only the flag leaves a part out on purpose."""
    if skipped:
        return Report(FUNCTION, tuple(StepResult(s.id, s.tool, "skipped", reason=f"left out by {flag}")
                                      for s in steps), ())
    if why_not:
        return Report(FUNCTION, tuple(StepResult(s.id, s.tool, "failed", reason=f"{why_not}, or pass {flag}")
                                      for s in steps), ())
    report = await run_steps(FUNCTION, executor, steps, setup=setup_of(config))
    ids = {s.id for s in steps}
    ran = tuple(replace(s, status="failed", reason=f"{s.reason}; add it, or pass {flag}")
                if s.id in ids and s.status == "skipped" else s for s in report.steps)
    return replace(report, steps=ran)


def _combined(checked: Report, parts: list[Report]) -> Report:
    """The target check and every part as one report, a stage each."""
    steps = checked.steps + tuple(s for part in parts for s in part.steps)
    stages = {FUNCTION: tuple(s.id for s in checked.steps),
              **{name: tuple(s.id for s in part.steps if not s.id.startswith("setup/"))
                 for name, part in zip(PARTS, parts)}}
    artifacts = {k: v for part in parts for k, v in part.artifacts.items()}
    return replace(checked, steps=steps, findings=checked.findings + tuple(f for p in parts for f in p.findings),
                   duration_s=checked.duration_s + sum(p.duration_s for p in parts), stages=stages,
                   artifacts=artifacts)
