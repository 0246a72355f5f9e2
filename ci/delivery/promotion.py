"""The same release moves forward: an environment with `promote_from` deploys only a release its upstream
environment ran successfully, and gets it through `promote` (every checksum verified), never a rebuild.

The `deploy/promotion` phase: the release the ref names in the upstream bucket (id or tag), the upstream state read
with the upstream's credentials (never written: its lock is not taken) and judged (`refusal`), then the release
copied into this environment's bucket (`ci.delivery.release.promote`; already there is fine, verified).
"""

from __future__ import annotations

from dataclasses import replace

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import one_line
from ci.delivery import release, state
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.phases import PhaseFailed

PHASE = "promotion"
Upstream = tuple[Context, Aws]
"""The promote_from environment's context and clients (its own credentials)."""


def resolve(upstream: Upstream, ref: str) -> str:
    """The release id `ref` names in the upstream bucket."""
    ctx, aws = upstream
    try:
        return release.resolve(aws.s3, ctx.bucket, ref)
    except release.ReleaseError as exc:
        raise PhaseFailed(PHASE, f"{exc}".replace("--env ENV", f"--env {ctx.env_name}"), ()) from None
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(PHASE, f"resolving {ref} in s3://{ctx.bucket} ({ctx.env_name}) failed: {one_line(exc)}; "
                          "check the --from-aws-* credentials", ()) from None


def refusal(upstream: state.EnvState, release_id: str) -> state.Deployment | str:
    """The one rule for "green upstream": the record that clears `release_id`, or why the history does not. Its
    latest deploy of the release must be `deployed` (one that changed nothing does not count), and no rollback
    away from it since; that deploy is the record."""
    records = [d for d in upstream.history if d.release == release_id and d.kind == "deploy"
               and d.outcome != "unchanged"]
    if not records:
        return "it was never deployed there"
    last = records[-1]
    if last.outcome != "deployed":
        return f"its latest deploy there ended {last.outcome} ({last.finished})"
    since = upstream.history[upstream.history.index(last) + 1:]
    away = next((d for d in since if d.kind == "rollback" and d.previous == release_id), None)
    if away is not None:
        return f"it was rolled back there to {away.release[:12]} ({away.finished})"
    return last


def cleared(upstream: state.EnvState, release_id: str) -> state.Deployment | None:
    """The record `refusal` clears the release with; None when it does not."""
    found = refusal(upstream, release_id)
    return None if isinstance(found, str) else found


def reading(upstream: Upstream, ctx: Context) -> tuple[Aws, Context]:
    """Clients and context that read the release from the upstream bucket (its credentials) for this environment
    (its parameters): a dry run or a plan sees what a deploy would copy, and nothing is copied."""
    src, src_aws = upstream
    return src_aws, replace(ctx, environment=ctx.environment.model_copy(update={"artifacts_bucket": src.bucket}))


def require(upstream: Upstream, env_name: str, release_id: str) -> state.Deployment:
    """The upstream's record that clears the release (`refusal`), or PhaseFailed naming what to deploy first."""
    ctx, aws = upstream
    try:
        found = state.Store(aws.s3, ctx.bucket, ctx.env_name).load()[0]
    except state.StateError as exc:
        raise PhaseFailed(PHASE, f"the state of {ctx.env_name} could not be read: {exc}", ()) from None
    why = refusal(found, release_id)
    if isinstance(why, str):
        raise PhaseFailed(PHASE, f"release {release_id[:12]} has no successful deploy to {ctx.env_name} ({why}); "
                          f"deploy it to {ctx.env_name} first (`bayon deploy --env {ctx.env_name} --release "
                          f"{release_id}`), then to {env_name}", ())
    return why


def copy(upstream: Upstream, ctx: Context, aws: Aws, release_id: str) -> str:
    """The release copied from the upstream bucket into this environment's, checksums verified: what happened."""
    src, src_aws = upstream
    try:
        found, copied = release.promote(src_aws.s3, src.bucket, aws.s3, ctx.bucket, release_id)
    except release.ReleaseError as exc:
        raise PhaseFailed(PHASE, str(exc), (str(exc),)) from None
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(PHASE, f"copying release {release_id[:12]} from s3://{src.bucket} to s3://{ctx.bucket} "
                          f"failed: {one_line(exc)}; check that the --from-aws-* credentials can read the first and "
                          "the --aws-* ones write the second", ()) from None
    return (f"copied {len(found.objects)} objects from s3://{src.bucket}" if copied
            else f"already in s3://{ctx.bucket}") + ", every checksum verified; nothing rebuilt"
