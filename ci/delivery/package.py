"""`package --env NAME --commit-sha SHA`: build the immutable release of one commit and store it in the
environment's artifacts bucket (`ci.delivery.release`): `sam build` + `sam package` (code under
`releases/<id>/code/`), the packaged template made portable (any environment's bucket), every environment's
parameters, and the static export zipped (`frontend.zip`, for Amplify's manual deployments), with a manifest of their
checksums written once. A release already stored is verified, never rebuilt.

The two build steps run through the executor (containers in Dagger, subprocesses locally); the uploads run here with
the environment's credentials, which the package step gets as secret variables only.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from datetime import UTC, datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import anyio
from botocore.exceptions import BotoCoreError, ClientError

from ci.config import Config
from ci.core.errors import UsageError, one_line
from ci.core.executor import Executor, Setup
from ci.core.report import Report, StepResult, Table
from ci.core.scheduler import run_steps
from ci.core.step import Step
from ci.delivery import credentials, packaging, release, target
from ci.delivery.clients import client, unsigned_sts
from ci.delivery.clients import target as target_of

FUNCTION = "package"
STORE_ID = "release/store"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""Every zip entry's timestamp: the same export zips to the same bytes (and checksum)."""


def site_zip(files: Mapping[str, bytes]) -> bytes:
    """The static export as a zip, entries sorted and timestamps fixed; a site without index.html is refused."""
    if "index.html" not in files:
        raise UsageError("the static export has no index.html at its root; Amplify's manual deployment needs one "
                         "(check next.config's `output: \"export\"` and `distDir`)")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), files[name], zipfile.ZIP_DEFLATED)
    return out.getvalue()


@dataclass(frozen=True)
class Site:
    """The static export's build step, the directory it writes (relative to its workdir), and why a run of it wrote
    none (from its report files; None when it did)."""

    step: Step
    path: str
    absent: Callable[[Mapping[str, bytes]], str | None]


async def run(executor: Executor, config: Config, env_name: str, template_path: str, site: Site | None,
              given: credentials.Given, commit: str, tags: Sequence[str], setup: Setup,
              environ: Mapping[str, str] = os.environ, wall: Callable[[], float] = time.time) -> Report:
    """Package and store the release of `commit` (`site`: the static export's build step, None for a backend-only
    app); the report's steps are the build steps and `release/store`, its table the stored objects."""
    environment = target.environment(config, env_name)
    release_id = release.release_id(commit)
    where = target_of(environment, environ)
    aws = await anyio.to_thread.run_sync(credentials.session, given, environment.region, unsigned_sts(where))
    s3 = client(aws, "s3", where)
    started = time.monotonic()
    existing = await anyio.to_thread.run_sync(_existing, s3, environment.artifacts_bucket, release_id, tags)
    if existing is not None:
        step = StepResult(STORE_ID, "s3", "passed", duration_s=time.monotonic() - started,
                          reason=f"release {release_id[:12]} is already stored in s3://{environment.artifacts_bucket}"
                                 f" and verified ({len(existing.objects)} objects); nothing rebuilt")
        return Report(FUNCTION, (step,), (), step.duration_s, stages={FUNCTION: (STORE_ID,)},
                      tables=(_objects(existing),))
    executor.give_secrets(credentials.secret_values(aws))
    prefix = f"{release.ROOT}{release_id}/code"
    steps = [packaging.package_step(env_name, environment, template_path, where, prefix=prefix),
             *([site.step] if site else [])]
    built = await run_steps(FUNCTION, executor, steps, setup=setup)
    blocked = [s for s in built.steps if s.id in {t.id for t in steps} and s.status != "passed"]
    if blocked:
        skipped = StepResult(STORE_ID, "s3", "skipped", reason=f"{blocked[0].id} {blocked[0].status}: nothing stored",
                             blocked_by=blocked[0].id)
        return _with(built, skipped)
    files = {release.TEMPLATE: _json(release.portable(
                 packaging.packaged({packaging.PACKAGED: built.artifacts[f"{steps[0].id}/{packaging.PACKAGED}"]}),
                 environment.artifacts_bucket)),
             release.PARAMETERS: _json({name: dict(e.parameters) for name, e in config.environments.items()})}
    if site is not None:
        files[release.FRONTEND] = await _frontend(executor, site, built)
    started = time.monotonic()
    try:
        stored = await anyio.to_thread.run_sync(release.store, s3, environment.artifacts_bucket, commit, tags, files,
                                                datetime.fromtimestamp(wall(), UTC))
    except release.ReleaseError as exc:
        return _with(built, StepResult(STORE_ID, "s3", "crashed", reason=str(exc)))
    except (ClientError, BotoCoreError) as exc:
        return _with(built, StepResult(STORE_ID, "s3", "crashed", reason=f"storing the release in s3://"
                                       f"{environment.artifacts_bucket} failed: {one_line(exc)}"))
    step = StepResult(STORE_ID, "s3", "passed", duration_s=time.monotonic() - started,
                      reason=f"release {release_id[:12]} stored in s3://{environment.artifacts_bucket}: "
                             f"{len(stored.objects)} objects, manifest written once"
                             + (f", tags {', '.join(stored.tags)}" if stored.tags else ""))
    return replace(_with(built, step), tables=(_objects(stored),))


def _existing(s3, bucket: str, release_id: str, tags: Sequence[str]) -> release.Manifest | None:
    """The stored release of this commit, verified (its new tags added), or None when there is none yet."""
    try:
        found = release.manifest(s3, bucket, release_id)
    except release.ReleaseNotFound:
        return None
    release.verify(s3, bucket, found)
    release.add_tags(s3, bucket, release_id, tags)
    return found


async def _frontend(executor: Executor, site: Site, built: Report) -> bytes:
    """The site step's static export, zipped; a server-rendered app is refused by name."""
    prefix = f"{site.step.id}/"
    why = site.absent({k.removeprefix(prefix): v for k, v in built.artifacts.items() if k.startswith(prefix)})
    if why:
        raise UsageError(f"package: {why}; a server-rendered frontend cannot be deployed: Amplify's manual "
                         "deployments take static sites only (set `output: \"export\"` in next.config, or remove "
                         "environments.*.amplify to deploy the backend only)")
    return site_zip(await executor.output_files(site.step, site.path))


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def _with(built: Report, step: StepResult) -> Report:
    """The build's report with the store step after it (it starts when the last build step ended)."""
    step = replace(step, started_s=max((s.started_s + s.duration_s for s in built.steps), default=0.0))
    stages = {FUNCTION: (*(s.id for s in built.steps), step.id)}
    return replace(built, steps=(*built.steps, step), stages=stages, duration_s=built.duration_s + step.duration_s)


def _objects(stored: release.Manifest) -> Table:
    rows = tuple((o.name, o.size, o.sha256[:12], o.key) for o in stored.objects)
    return Table(title=f"release {stored.release_id[:12]}", columns=("object", "bytes", "sha256", "key"), rows=rows,
                 step=STORE_ID)
