"""An environment held for one deploy or rollback: its lock taken (`ci.delivery.lock`), its state read
(`ci.delivery.state`; an unreadable one moved aside and rebuilt from the stack's release tag), an attempt a dead run
left behind reverted, and the lock released whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import one_line
from ci.delivery import lock, stack, state, utc
from ci.delivery.aws import Aws
from ci.delivery.changeset import stack_status
from ci.delivery.context import Context
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed


@dataclass
class Held:
    """The state as last read or written, and the ETag its next write must match."""

    store: state.Store
    state: state.EnvState
    etag: str | None

    def save(self, new: state.EnvState) -> None:
        """Write the state (`If-Match` its ETag); a conflict means a run without the lock wrote it."""
        self.etag = self.store.save(new, self.etag)
        self.state = new


@contextmanager
def holding(aws: Aws, ctx: Context, log: PhaseLog, kind: str) -> Iterator[Held]:
    """Take the lock and read the state (`{kind}/lock`, `{kind}/state` phases); the lock is released on the way out."""
    with log.phase(f"{kind}/lock", "s3") as said:
        try:
            mine, stale = lock.acquire(aws.s3, ctx.bucket, ctx.env_name, ctx.owner, ctx.run_id, ttl_s=ctx.lock_ttl_s,
                                       wait_s=ctx.environment.timeouts.lock, clock=ctx.wall, sleep=ctx.sleep)
        except lock.LockError as exc:
            raise PhaseFailed("lock", str(exc), ()) from None
        except (ClientError, BotoCoreError) as exc:
            raise PhaseFailed("lock", f"taking the lock in s3://{ctx.bucket} failed: {one_line(exc)}; check the "
                              "credentials can write the artifacts bucket", ()) from None
        said.reason = f"{ctx.env_name} locked by {ctx.owner} (run {ctx.run_id})" + (
            f"; took over the stale lock of {stale.owner} (run {stale.run_id}, expiry {stale.expires})" if stale else "")
    try:
        with log.phase(f"{kind}/state", "s3") as said:
            held, said.reason = _read(aws, ctx)
        yield held
    finally:
        if not lock.release(aws.s3, ctx.bucket, mine):
            log.progress(f"{kind}/lock: the lock was no longer ours when released (another run took it over)")


def _read(aws: Aws, ctx: Context) -> tuple[Held, str]:
    """The state; an unreadable one moved aside, it and a missing one rebuilt from the stack when it runs a release."""
    store = state.Store(aws.s3, ctx.bucket, ctx.env_name, ctx.wall)
    try:
        found, etag = store.load()
    except state.StateCorrupt as exc:
        moved = store.quarantine()
        rebuilt = _rebuilt(aws, ctx, f"{exc.detail}; moved to {moved}")
        return Held(store, rebuilt, store.save(rebuilt, None)), (
            f"the state was unreadable ({exc.detail}); moved to {moved} and rebuilt from {ctx.stack_name}'s release "
            f"tag: last known good {(rebuilt.last_known_good or 'none')[:12]}")
    except state.StateError as exc:
        raise PhaseFailed("state", str(exc), ()) from None
    if etag is None:
        rebuilt = _rebuilt(aws, ctx, "the state file was missing")
        if rebuilt.last_known_good:
            return Held(store, rebuilt, store.save(rebuilt, None)), (
                f"no state file, but {ctx.stack_name} runs release {rebuilt.last_known_good[:12]}: state rebuilt "
                "from its tag")
    last = found.last_known_good
    return Held(store, found, etag), (f"last known good {last[:12]}" if last else "no release deployed yet") + (
        f"; an interrupted {found.attempt.kind} of {found.attempt.release[:12]} (run {found.attempt.run_id}) to "
        "resolve" if found.attempt else "")


def _rebuilt(aws: Aws, ctx: Context, why: str) -> state.EnvState:
    """A state from what the stack says: the release it is tagged with is the last known good (a stack that is not
    settled has none); the loss is recorded as an incident."""
    try:
        status = stack_status(aws.cloudformation, ctx.stack_name)
        tagged = stack.tagged_release(aws.cloudformation, ctx.stack_name) if status in stack.DONE_OK else None
    except (ClientError, BotoCoreError) as exc:
        raise PhaseFailed("state", f"the state was lost and {ctx.stack_name} could not be read to rebuild it: "
                          f"{one_line(exc)}", ()) from None
    fresh = state.EnvState(environment=ctx.env_name, last_known_good=tagged, current=tagged)
    if tagged is None:
        return fresh
    return fresh.with_incident(state.Incident(
        id=f"{ctx.env_name}-{utc.compact(ctx.wall())}", at=ctx.stamp(), release=tagged, restored=tagged,
        phase="state", reason=f"state rebuilt from the stack: {why}",
        evidence=(f"{ctx.stack_name} status {status}, tagged {tagged}",), outcome="unchanged", run_id=ctx.run_id))
