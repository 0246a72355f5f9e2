"""`promote --from A --to B --release REF`: move a stored release into the next environment's artifacts bucket.
Environments have their own accounts and credentials (production's cannot read staging's bucket), so every object
is read with A's credentials, written with B's, and its checksum verified in B; the manifest is copied last, byte for
byte, written once. Nothing is rebuilt: B deploys exactly what A ran."""

from __future__ import annotations

import time

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import UsageError, one_line
from ci.core.report import Report, StepResult, Table
from ci.delivery import release
from ci.delivery.aws import Aws
from ci.delivery.context import Context

FUNCTION = "promote"
STEP_ID = "release/promote"


def promote(source: tuple[Context, Aws], destination: tuple[Context, Aws], ref: str) -> Report:
    """Copy and verify; the report's one step says what was copied, its table the objects."""
    (src, src_aws), (dst, dst_aws) = source, destination
    if src.env_name == dst.env_name:
        raise UsageError(f"--from and --to are both {src.env_name}; promote moves a release to another environment")
    started = time.monotonic()
    try:
        found, copied = release.promote(src_aws.s3, src.bucket, dst_aws.s3, dst.bucket, ref)
    except release.ReleaseError as exc:
        return _report(StepResult(STEP_ID, "s3", "failed", reason=str(exc), duration_s=time.monotonic() - started))
    except (ClientError, BotoCoreError) as exc:
        return _report(StepResult(STEP_ID, "s3", "crashed", duration_s=time.monotonic() - started,
                                  reason=f"copying {ref} from s3://{src.bucket} to s3://{dst.bucket} failed: "
                                         f"{one_line(exc)}; check that --from credentials can read the first and "
                                         "the others write the second"))
    what = (f"copied {len(found.objects)} objects" if copied else f"already in s3://{dst.bucket}")
    step = StepResult(STEP_ID, "s3", "passed", duration_s=time.monotonic() - started,
                      reason=f"release {found.release_id[:12]} {src.env_name} -> {dst.env_name}: {what}, every "
                             "checksum verified; nothing rebuilt")
    rows = tuple((o.name, o.size, o.sha256[:12]) for o in found.objects)
    return _report(step, Table(f"release {found.release_id[:12]} in s3://{dst.bucket}", ("object", "bytes", "sha256"),
                               rows, STEP_ID))


def _report(step: StepResult, *tables: Table) -> Report:
    return Report(FUNCTION, (step,), (), step.duration_s, stages={FUNCTION: (step.id,)}, tables=tables)
