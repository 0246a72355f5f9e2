"""What a deploy and a rollback both do with a stored release: read and verify it, make its template deployable in
this environment, publish its frontend with this environment's runtime config, and run the smoke tests. Each raises
`PhaseFailed` of its phase."""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import UsageError, one_line
from ci.core.report import Finding
from ci.delivery import amplify, emulator, release, sam, smoke, stack
from ci.delivery.aws import Aws
from ci.delivery.context import Context
from ci.delivery.phases import PhaseFailed


@dataclass(frozen=True)
class Stored:
    """A release read from the environment's bucket, its checksums verified: its template bound to this
    environment's bucket, its parameters for this environment, its frontend zip (None without one)."""

    manifest: release.Manifest
    template: dict
    parameters: dict[str, str]
    frontend: bytes | None

    @property
    def release_id(self) -> str:
        return self.manifest.release_id


def resolve(aws: Aws, ctx: Context, ref: str, phase: str) -> str:
    """The release id `ref` (an id or a tag) names in the environment's bucket."""
    try:
        return release.resolve(aws.s3, ctx.bucket, ref)
    except release.ReleaseError as exc:
        raise PhaseFailed(phase, str(exc).replace("--env ENV", f"--env {ctx.env_name}"), ()) from None
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"resolving {ref} in s3://{ctx.bucket} failed: {one_line(exc)}", ()) from None


def read(aws: Aws, ctx: Context, ref: str, phase: str, bind_to: str | None = None) -> Stored:
    """The release `ref` (an id or a tag) from the bucket, every object's checksum verified (code zips too); its
    template bound to `bind_to` (the bucket the deploy uses: this environment's, when a dry run or a plan reads
    the release from its upstream's), else to the bucket read."""
    try:
        found = release.manifest(aws.s3, ctx.bucket, ref)
        names = [release.TEMPLATE, release.PARAMETERS] + ([release.FRONTEND] if found.has(release.FRONTEND) else [])
        files = release.fetch(aws.s3, ctx.bucket, found, names)
        release.verify(aws.s3, ctx.bucket, found)
    except release.ReleaseError as exc:
        raise PhaseFailed(phase, str(exc), (str(exc),)) from None
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"reading release {ref} from s3://{ctx.bucket} failed: {one_line(exc)}",
                          (one_line(exc),)) from None
    by_env = _json(files[release.PARAMETERS], f"{found.release_id}/{release.PARAMETERS}", phase)
    if ctx.env_name not in by_env:
        raise PhaseFailed(phase, f"release {found.release_id[:12]} was packaged without environments.{ctx.env_name} "
                          "in its pipeline.yaml; package a commit that configures it", ())
    template = release.bound(_json(files[release.TEMPLATE], f"{found.release_id}/{release.TEMPLATE}", phase),
                             bind_to or ctx.bucket)
    return Stored(found, template, dict(by_env[ctx.env_name]), files.get(release.FRONTEND))


def _json(data: bytes, key: str, phase: str) -> dict:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise PhaseFailed(phase, f"{key} is not JSON ({exc}); the release is damaged, package a new one", ()) from None
    if not isinstance(value, dict):
        raise PhaseFailed(phase, f"{key} is not a JSON object; the release is damaged, package a new one", ())
    return value


def deployable(aws: Aws, stored: Stored, phase: str) -> tuple[dict, list[tuple[str, str]]]:
    """The template the stack gets: as stored for AWS; for an emulator the SAM transform run here and what it
    cannot create dropped (`ci.delivery.emulator`, listed in the second value)."""
    if not aws.where.emulator:
        return stored.template, []
    try:
        return emulator.profile(sam.translated(stored.template, stored.parameters, aws.session, aws.iam))
    except UsageError as exc:
        raise PhaseFailed(phase, str(exc), (str(exc),)) from None


def runtime_config(ctx: Context, outputs: dict[str, str], release_id: str) -> dict[str, str]:
    """config.json for the static site: each runtime_config key from its stack output (empty: every output), and
    the release it belongs to."""
    wanted = ctx.environment.runtime_config or {name: name for name in outputs}
    missing = sorted(set(wanted.values()) - set(outputs))
    if missing:
        raise PhaseFailed("frontend", f"environments.{ctx.env_name}.runtime_config names stack output(s) "
                          f"{', '.join(missing)}, which {ctx.stack_name} does not have (it has "
                          f"{', '.join(sorted(outputs)) or 'none'}); fix the names or add the outputs", ())
    return {"release": release_id, **{key: outputs[name] for key, name in wanted.items()}}


def frontend(aws: Aws, ctx: Context, stored: Stored, log, phase: str) -> str:
    """The release's frontend zip, with this environment's config.json, deployed to its Amplify branch: the phase's
    reason."""
    target = ctx.environment.amplify
    if stored.frontend is None:
        raise PhaseFailed(phase, f"release {stored.release_id[:12]} has no {release.FRONTEND} (packaged without a "
                          f"static export), but environments.{ctx.env_name}.amplify is set", ())
    try:
        values = runtime_config(ctx, stack.outputs(aws.cloudformation, ctx.stack_name), stored.release_id)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed(phase, f"reading {ctx.stack_name}'s outputs failed: {one_line(exc)}", ()) from None
    site = amplify.with_runtime_config(stored.frontend, values)
    job = amplify.deploy_zip(aws.amplify, target.app_id, target.branch, site, aws.put,
                             ctx.environment.timeouts.frontend, ctx.delay_s, ctx.clock, ctx.sleep, log.progress)
    return f"Amplify job {job} of {target.branch} succeeded"


def run_smoke(aws: Aws, ctx: Context, log, step_id: str) -> str:
    """Every configured smoke check against the stack as it runs now (its outputs and resources read first), each
    failed check a finding of `step_id`: the phase's reason, or PhaseFailed (`smoke.require_passed`) naming the
    failed checks."""
    try:
        outputs = stack.outputs(aws.cloudformation, ctx.stack_name)
        resources = stack.resources(aws.cloudformation, ctx.stack_name)
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("smoke", f"reading {ctx.stack_name} for the smoke tests failed: {one_line(exc)}",
                          (one_line(exc),)) from None
    results = smoke.run(ctx.environment.smoke, outputs, resources, aws.dynamodb, aws.s3,
                        ctx.clock() + ctx.environment.timeouts.smoke, ctx.clock, ctx.sleep, aws.get)
    log.findings += [Finding(step_id, "smoke", f"smoke/{r.kind}", "error", None, None, None, f"{r.label}: {r.detail}")
                     for r in results if not r.passed]
    if not results:
        return "no smoke checks configured"
    smoke.require_passed(results)
    return f"{len(results)} smoke check(s) passed"
