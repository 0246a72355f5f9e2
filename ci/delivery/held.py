"""An environment held for one deploy or rollback: its lock taken (`ci.delivery.lock`) and renewed at every phase,
its state read (`ci.delivery.state`; an unreadable one moved aside and rebuilt from the stack's release tag, a
missing one too when the stack runs a release), every state change written here, and the lock released whatever
happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ci.core.errors import one_line
from ci.core.report import Finding
from ci.delivery import lock, stack, state, utc
from ci.delivery.aws import Aws
from ci.delivery.changeset import stack_status
from ci.delivery.context import Context
from ci.delivery.phase_log import PhaseLog
from ci.delivery.phases import PhaseFailed


@dataclass
class Held:
    """The state as last read or written, the ETag its next write must match, and the lock this run holds."""

    aws: Aws
    ctx: Context
    store: state.Store
    state: state.EnvState
    etag: str | None
    lock: lock.Lock

    def save(self, new: state.EnvState) -> None:
        """Write the state (`If-Match` its ETag), the lock renewed first: a run that lost its lock writes nothing.
        PhaseFailed("state") when the write fails."""
        self.renew()
        try:
            self.etag = self.store.save(new, self.etag)
        except state.StateError as exc:
            raise PhaseFailed("state", str(exc), ()) from None
        self.state = new

    def renew(self) -> None:
        """Move the lock's expiry on (compare-and-swap); PhaseFailed("lock") when another run took it over,
        PhaseFailed("state") when S3 failed."""
        try:
            self.lock = lock.renew(self.aws.s3, self.ctx.bucket, self.lock, self.ctx.lock_ttl_s, self.ctx.wall)
        except lock.LockLost as exc:
            raise PhaseFailed("lock", str(exc), ()) from None
        except lock.LockError as exc:  # S3 did not answer: the lock may still be ours, the run goes on its way
            raise PhaseFailed("state", str(exc), ()) from None

    def begin(self, attempt: state.Attempt) -> None:
        """Record the attempt in progress, so a run that dies from here on is found and resolved by the next."""
        self.save(self.state.with_attempt(attempt))

    def at(self, phase: str, executed: bool | None = None, policy_lifted: str | None = None,
           policy_before: str | None = None) -> None:
        """The attempt's phase (whether its change set was executed, why the stack policy is lifted) in the
        state."""
        attempt = self.state.attempt
        update = {"phase": phase, **({} if executed is None else {"executed": executed}),
                  **({} if policy_lifted is None else {"policy_lifted": policy_lifted}),
                  **({} if policy_before is None else {"policy_before": policy_before})}
        if attempt is not None and any(getattr(attempt, k) != v for k, v in update.items()):
            self.save(self.state.with_attempt(attempt.model_copy(update=update)))
        else:
            self.renew()

    def finish(self, release: str, kind: str, outcome: str, previous: str | None, started: str, reason: str,
               incident: state.Incident | None = None, keep_attempt: bool = False, run_id: str = "",
               safeguards: state.Safeguards | None = None) -> None:
        """The run (`run_id`: this one's by default) in the history (`EnvState.recorded` moves the current and
        last known good releases) with what its safeguards did, and its incident; `keep_attempt`: the attempt
        stays, so the next deploy or rollback resolves it again."""
        attempt = self.state.attempt
        new = self.state.recorded(state.Deployment(release=release, kind=kind, outcome=outcome, started=started,
                                                   finished=self.ctx.stamp(), run_id=run_id or self.ctx.run_id,
                                                   previous=previous, reason=reason, safeguards=safeguards))
        if keep_attempt and attempt is not None:
            new = new.with_attempt(attempt)
        self.save(new.with_incident(incident) if incident else new)


@contextmanager
def holding(aws: Aws, ctx: Context, log: PhaseLog, kind: str) -> Iterator[Held]:
    """Take the lock and read the state (`{kind}/lock`, `{kind}/state` phases); the lock is released on the way out
    (a release that fails is a warning finding: the lock then expires on its own)."""
    with log.phase(f"{kind}/lock", "s3") as said:
        try:
            mine, stale = lock.acquire(aws.s3, ctx.bucket, ctx.env_name, ctx.owner, ctx.run_id, ttl_s=ctx.lock_ttl_s,
                                       wait_s=ctx.environment.timeouts.lock, clock=ctx.wall, sleep=ctx.sleep)
        except lock.LockError as exc:
            raise PhaseFailed("lock", str(exc), ()) from None
        said.reason = f"{ctx.env_name} locked by {ctx.owner} (run {ctx.run_id})" + (
            f"; took over the stale lock of {stale.owner} (run {stale.run_id}, expiry {stale.expires})" if stale else "")
    held = None
    try:
        with log.phase(f"{kind}/state", "s3") as said:
            held, said.reason = _read(aws, ctx, mine)
        yield held
    finally:
        _release(aws, ctx, log, held.lock if held else mine, kind)


def _release(aws: Aws, ctx: Context, log: PhaseLog, mine: lock.Lock, kind: str) -> None:
    try:
        if lock.release(aws.s3, ctx.bucket, mine):
            return
        why = "it was no longer ours (another run took it over)"
    except lock.LockError as exc:
        why = f"{exc}; it expires on its own at its expiry"
    log.progress(f"{kind}/lock: not released: {why}")
    log.findings.append(Finding(f"{kind}/lock", "s3", "deploy/lock-not-released", "warning", None, None, None,
                                f"the lock of {ctx.env_name} was not released: {why}"))


def _read(aws: Aws, ctx: Context, mine: lock.Lock) -> tuple[Held, str]:
    """The state; an unreadable one moved aside, it and a missing one rebuilt from the stack when it runs a release."""
    store = state.Store(aws.s3, ctx.bucket, ctx.env_name, ctx.wall)
    try:
        try:
            found, etag = store.load()
        except state.StateCorrupt as exc:
            moved = store.quarantine()
            rebuilt = _rebuilt(aws, ctx, f"{exc.detail}; moved to {moved}")
            return Held(aws, ctx, store, rebuilt, store.save(rebuilt, None), mine), (
                f"the state was unreadable ({exc.detail}); moved to {moved} and rebuilt from {ctx.stack_name}'s "
                f"release tag: last known good {(rebuilt.last_known_good or 'none')[:12]}")
        if etag is None:
            rebuilt = _rebuilt(aws, ctx, "the state file was missing")
            if rebuilt.last_known_good:
                return Held(aws, ctx, store, rebuilt, store.save(rebuilt, None), mine), (
                    f"no state file, but {ctx.stack_name} runs release {rebuilt.last_known_good[:12]}: state rebuilt "
                    "from its tag")
    except state.StateError as exc:
        raise PhaseFailed("state", str(exc), ()) from None
    last = found.last_known_good
    return Held(aws, ctx, store, found, etag, mine), (
        (f"last known good {last[:12]}" if last else "no release deployed yet")
        + (f"; an interrupted {found.attempt.kind} of {found.attempt.release[:12]} (run {found.attempt.run_id}) to "
           "resolve" if found.attempt else ""))


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
        id=incident_id(ctx), at=ctx.stamp(), release=tagged, restored=tagged, phase="state",
        reason=f"state rebuilt from the stack: {why}",
        evidence=(f"{ctx.stack_name} status {status}, tagged {tagged}",), outcome="unchanged", run_id=ctx.run_id))


def incident_id(ctx: Context) -> str:
    """`<env>-<UTC>-<run id>`: unique in the environment (one run records at most one incident a second)."""
    return f"{ctx.env_name}-{utc.compact(ctx.wall())}-{ctx.run_id}"
