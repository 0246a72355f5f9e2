"""The runner's delivery half: `package`, `promote`, `deploy`, `smoke`, `rollback` and `history`, each the config
loaded, the environment's clients made with the credentials given (`ci.delivery.aws.connect`) and the delivery
logic run in a worker thread (boto3 blocks). Both faces call these; the exit code of an outcome is decided here."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from ci.core.errors import UsageError, unwrap_groups
from ci.core.executor import Executor
from ci.core.report import Report
from ci.delivery import credentials, deploy as deploying, observe, package as packaging, promote as promoting
from ci.delivery import release, rollback as rolling_back, target
from ci.delivery.aws import connect
from ci.delivery.phase_log import PhaseLog
from ci.pipeline.announce import Audience, announced
from ci.pipeline.registry import OUTPUTS
from ci.pipeline.runner import infra_templates, load, setup_of

EXIT_ROLLED_BACK, EXIT_UNRECOVERABLE = 4, 5
"""`deploy` failed but its last known good release is restored (4); the environment is at no known release (5)."""
NO_CREDENTIALS = credentials.Given()
"""No credential argument given: the usual AWS environment (variables, profile) applies."""
SITE = "build_output"
"""The output function whose step builds the static export the release zips."""


def exit_code(report: Report) -> int:
    """0 passed, 1 failed (nothing changed), 4 failed and rolled back, 5 unrecoverable."""
    if report.outcome == "unrecoverable":
        return EXIT_UNRECOVERABLE
    if report.passed:
        return 0
    return EXIT_ROLLED_BACK if report.outcome == "rolled_back" else 1


@unwrap_groups
async def package(executor: Executor, env_name: str, given: credentials.Given, commit: str,
                  tags: Sequence[str] = ()) -> Report:
    """Build and store the release of `commit` in the environment's bucket (the static export too when any
    environment deploys a frontend to Amplify)."""
    if not commit:
        raise UsageError("--commit-sha: name the commit to package (in Actions: github.sha); a release is one commit")
    try:
        release.release_id(commit)
    except release.ReleaseError as exc:
        raise UsageError(f"--commit-sha {commit}: {exc}") from None
    config = await load(executor)
    target.environment(config, env_name)
    chosen = config.environments[env_name].template
    template = target.template(config, env_name, [] if chosen else await infra_templates(executor, config))
    site = None
    if any(e.amplify for e in config.environments.values()):
        out = OUTPUTS[SITE]
        site = packaging.Site(out.steps(config)[0], out.path, out.absent)
    return await packaging.run(executor, config, env_name, template, site, given, commit, tags, setup_of(config))


async def promote(executor: Executor, from_env: str, to_env: str, ref: str, from_given: credentials.Given,
                  given: credentials.Given) -> Report:
    """Copy a release from one environment's bucket to the next's, every checksum verified."""
    if not ref.strip():
        raise UsageError("--release: name the release to promote, its id (the commit's full SHA) or a tag")
    config = await load(executor)
    source = await anyio.to_thread.run_sync(connect, config, from_env, from_given)
    destination = await anyio.to_thread.run_sync(connect, config, to_env, given)
    return await anyio.to_thread.run_sync(promoting.promote, source, destination, ref)


async def deploy(executor: Executor, env_name: str, given: credentials.Given, ref: str, dry_run: bool = False,
                 from_given: credentials.Given = NO_CREDENTIALS, override_reason: str = "",
                 audience: Audience = Audience()) -> Report:
    """Deploy a stored release, rolling back automatically (`ci.delivery.deploy`); an environment with
    `promote_from` first checks that environment's record of the release (read with `from_given`) and copies it
    from there. Unless a dry run: the approval timeout checked first, the run announced (`ci.pipeline.announce`)."""
    if not ref.strip():
        raise UsageError("--release: name the release to deploy, its id (the commit's full SHA) or a tag")
    config = await load(executor)
    environment = target.environment(config, env_name)
    upstream = environment.promote_from
    if upstream is None and from_given != NO_CREDENTIALS:
        raise UsageError(f"--from-aws-*: environments.{env_name} has no promote_from, so nothing is read from "
                         "another account; drop them")

    async def run() -> Report:
        ctx, aws = await anyio.to_thread.run_sync(connect, config, env_name, given)
        source = None if upstream is None else await anyio.to_thread.run_sync(connect, config, upstream, from_given)
        request = deploying.Request(ref, dry_run, override_reason.strip(), source)
        return await anyio.to_thread.run_sync(deploying.deploy, aws, ctx, request, PhaseLog())

    return await run() if dry_run else await announced("deploy", config, env_name, ref, audience, run)


async def rollback(executor: Executor, env_name: str, given: credentials.Given, to: str = "",
                   audience: Audience = Audience()) -> Report:
    """Bring the environment back to a release it ran (`ci.delivery.rollback`), announced (`ci.pipeline.announce`)."""
    config = await load(executor)

    async def run() -> Report:
        ctx, aws = await anyio.to_thread.run_sync(connect, config, env_name, given)
        return await anyio.to_thread.run_sync(rolling_back.rollback, aws, ctx, to, PhaseLog())

    target.environment(config, env_name)
    return await announced("rollback", config, env_name, to, audience, run)


async def smoke(executor: Executor, env_name: str, given: credentials.Given) -> Report:
    """The environment's smoke tests as it runs now."""
    ctx, aws = await _connected(executor, env_name, given)
    return await anyio.to_thread.run_sync(observe.smoke, aws, ctx, PhaseLog())


async def history(executor: Executor, env_name: str, given: credentials.Given) -> Report:
    """The environment's releases, incidents and last known good."""
    ctx, aws = await _connected(executor, env_name, given)
    return await anyio.to_thread.run_sync(observe.show_history, aws, ctx, PhaseLog())


async def _connected(executor: Executor, env_name: str, given: credentials.Given):
    config = await load(executor)
    return await anyio.to_thread.run_sync(connect, config, env_name, given)


async def incident_report(executor: Executor, env_name: str, given: credentials.Given, incident_id: str) -> str:
    """One incident of the environment's state, as its Markdown report."""
    ctx, aws = await _connected(executor, env_name, given)
    return await anyio.to_thread.run_sync(observe.incident_report, aws, ctx, incident_id)
