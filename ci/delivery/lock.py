"""The environment's lock, `bayon/locks/<environment>.json` in its artifacts bucket: two deploys or rollbacks of one
environment never interleave.

The lock is taken by creating the object only if absent (`If-None-Match: *`). It says who holds it (owner, run id,
host, pid), since when and until when (ISO 8601 UTC). A lock past its expiry, or held by a process of this host that
is gone, is stale: it is taken over by replacing exactly that object (`If-Match: <its ETag>`), so of two runs taking
over the same stale lock only one wins. It is released by deleting it only if it is still ours (`If-Match`).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ci.core.errors import BayonError, one_line
from ci.delivery import conditional, utc
from ci.delivery.utc import Moment

POLL_S = 5.0
"""How often a held lock is looked at again while waiting for it."""


class LockError(BayonError):
    """The lock could not be taken or released."""

    exit_code = 1


class LockHeld(LockError):
    """Another live run holds the lock, still after waiting for it."""


class LockLost(LockError):
    """The lock is no longer this run's (it expired and another run took it over)."""


@dataclass(frozen=True)
class Lock:
    """A lock as stored, with the ETag that identifies this very holding."""

    environment: str
    owner: str
    run_id: str
    host: str
    pid: int
    acquired: str
    expires: str
    etag: str


class _Body(BaseModel):
    """The stored JSON, validated: anything else in the object makes the lock unreadable, hence stale."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    owner: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    host: str
    pid: int
    acquired: Moment
    expires: Moment


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (one we may not signal is alive too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def key(environment: str) -> str:
    return f"bayon/locks/{environment}.json"


def acquire(s3: Any, bucket: str, environment: str, owner: str, run_id: str, ttl_s: float, wait_s: float,
            clock: Callable[[], float], sleep: Callable[[float], None], host: str | None = None,
            pid: int | None = None, alive: Callable[[int], bool] = pid_alive) -> tuple[Lock, Lock | None]:
    """Take the lock for `ttl_s` seconds; the lock, and the stale lock it replaced (None: there was none, or it
    was unreadable), so the caller resumes or reverts that run's attempt. A live lock is looked at again every
    POLL_S seconds up to `wait_s`, then LockHeld. `clock` gives seconds since the epoch; `host` and `pid` default
    to this process's."""
    host = socket.gethostname() if host is None else host
    pid = os.getpid() if pid is None else pid
    where = f"s3://{bucket}/{key(environment)}"
    deadline = clock() + wait_s
    while True:
        now = clock()
        body = _Body(owner=owner, run_id=run_id, host=host, pid=pid, acquired=utc.text(now),
                     expires=utc.text(now + ttl_s))
        etag = _put(s3, bucket, environment, body, {"IfNoneMatch": "*"})
        if etag:
            return _lock(environment, body, etag), None
        held = _read(s3, bucket, environment)
        if held is None:  # released meanwhile: try again at once
            continue
        found, held_etag = held
        if found is None or _stale(found, now, host, alive):
            etag = _put(s3, bucket, environment, body, {"IfMatch": held_etag})
            if etag:
                return _lock(environment, body, etag), found
            continue  # another run took it over first: look at its lock
        if now >= deadline:
            raise LockHeld(f"environment {environment} is locked by {found.owner} (run {found.run_id}, pid "
                           f"{found.pid} on {found.host}) since {found.acquired} until {found.expires} ({where}); "
                           f"wait for that run to finish, or if it died on another machine, wait for the lock's "
                           f"expiry at {found.expires}: bayon then takes it over")
        sleep(min(POLL_S, deadline - now))


def renew(s3: Any, bucket: str, lock: Lock, ttl_s: float, clock: Callable[[], float]) -> Lock:
    """The same holding with its expiry moved to `ttl_s` from now (compare-and-swap on its ETag); LockLost when it
    is no longer ours."""
    body = _Body(owner=lock.owner, run_id=lock.run_id, host=lock.host, pid=lock.pid, acquired=lock.acquired,
                 expires=utc.text(clock() + ttl_s))
    etag = _put(s3, bucket, lock.environment, body, {"IfMatch": lock.etag})
    if etag is None:
        raise LockLost(f"the lock of {lock.environment} is no longer run {lock.run_id}'s (it expired and another run "
                       "took it over): that run resolves this attempt; this one stops here")
    return _lock(lock.environment, body, etag)


def release(s3: Any, bucket: str, lock: Lock) -> bool:
    """Delete the lock if it is still this holding; False when it was no longer ours (taken over, or gone)."""
    deleted = _s3(lambda: s3.delete_object(Bucket=bucket, Key=key(lock.environment), IfMatch=lock.etag),
                  conditional.refused, bucket, lock.environment, "release", "s3:DeleteObject")
    return deleted is not None


def _stale(found: Lock, now: float, host: str, alive: Callable[[int], bool]) -> bool:
    """Past its expiry, or held by a process of this host that is gone."""
    return utc.seconds(found.expires) <= now or (found.host == host and not alive(found.pid))


def _put(s3: Any, bucket: str, environment: str, body: _Body, condition: dict[str, str]) -> str | None:
    """Write the lock under `condition`; its ETag, or None when the condition failed."""
    put = _s3(lambda: s3.put_object(Bucket=bucket, Key=key(environment),
                                    Body=json.dumps(body.model_dump(), sort_keys=True),
                                    ContentType="application/json", **condition),
              conditional.refused, bucket, environment, "take", "s3:PutObject")
    return put["ETag"] if put is not None else None


def _read(s3: Any, bucket: str, environment: str) -> tuple[Lock | None, str] | None:
    """The lock as stored (None when unreadable) and its ETag; None when there is no lock."""
    def get() -> tuple[bytes, str]:
        got = s3.get_object(Bucket=bucket, Key=key(environment))
        return got["Body"].read(), got["ETag"]

    found = _s3(get, conditional.missing, bucket, environment, "read", "s3:GetObject")
    if found is None:
        return None
    data, etag = found
    try:
        return _lock(environment, _Body.model_validate_json(data), etag), etag
    except ValidationError:
        return None, etag


def _s3(call: Callable[[], Any], expected: Callable[[ClientError], bool], bucket: str, environment: str,
        action: str, permission: str) -> Any:
    """`call()`; None when S3 answered with an `expected` condition (refused, missing), LockError for any other
    failure."""
    try:
        return call()
    except ClientError as exc:
        if expected(exc):
            return None
        raise _failed(bucket, environment, action, permission, exc) from None
    except BotoCoreError as exc:
        raise _failed(bucket, environment, action, permission, exc) from None


def _lock(environment: str, body: _Body, etag: str) -> Lock:
    return Lock(environment=environment, etag=etag, **body.model_dump())


def _failed(bucket: str, environment: str, action: str, permission: str, exc: Exception) -> LockError:
    return LockError(f"could not {action} the lock s3://{bucket}/{key(environment)}: {one_line(exc)}; check that "
                     f"the bucket exists (environments.{environment}.artifacts_bucket) and the credentials allow "
                     f"{permission}")
