"""The environment's lock against a real moto_server: taken when free, held against a live run until `wait_s` (a
fake clock and sleep), taken over when expired, dead on this host or unreadable, with one winner of a takeover race,
and released only by its holder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from ci.delivery import lock
from ci.delivery.lock import Lock, LockError, LockHeld, acquire, pid_alive, release

SHARES_MOTO = True

NOW = 1796176800.0
"""2026-12-02T02:00:00Z in seconds since the epoch."""
KEY = "bayon/locks/dev.json"


class Clock:
    """A fake wall clock; `sleep` advances it and records each wait."""

    def __init__(self, now: float = NOW):
        self.now, self.slept = now, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds




def take(s3, bucket, run_id="run-1", clock=None, host="ci-a", pid=100, alive=lambda pid: True, ttl_s=600.0,
         wait_s=0.0, owner="alice"):
    clock = clock or Clock()
    return acquire(s3, bucket, "dev", owner, run_id, ttl_s, wait_s, clock, clock.sleep, host=host, pid=pid,
                   alive=alive)


def stored(s3, bucket) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=KEY)["Body"].read())


def test_a_free_lock_is_taken_and_says_who_holds_it(s3, bucket):
    mine, replaced = take(s3, bucket)
    assert replaced is None
    assert mine == Lock(environment="dev", owner="alice", run_id="run-1", host="ci-a", pid=100,
                        acquired="2026-12-02T02:00:00Z", expires="2026-12-02T02:10:00Z", etag=mine.etag)
    assert stored(s3, bucket) == {"owner": "alice", "run_id": "run-1", "host": "ci-a", "pid": 100,
                                  "acquired": "2026-12-02T02:00:00Z", "expires": "2026-12-02T02:10:00Z"}
    assert s3.head_object(Bucket=bucket, Key=KEY)["ETag"] == mine.etag


def test_a_live_lock_is_held_until_wait_s_then_lock_held(s3, bucket):
    theirs, _ = take(s3, bucket, run_id="run-1", host="ci-a")
    clock = Clock(NOW + 1)
    with pytest.raises(LockHeld) as caught:
        take(s3, bucket, run_id="run-2", clock=clock, host="ci-b", wait_s=12, owner="bob")
    assert clock.slept == [5.0, 5.0, 2.0]
    assert str(caught.value) == (
        "environment dev is locked by alice (run run-1, pid 100 on ci-a) since 2026-12-02T02:00:00Z until "
        f"2026-12-02T02:10:00Z (s3://{bucket}/{KEY}); wait for that run to finish, or if it died on another "
        "machine, wait for the lock's expiry at 2026-12-02T02:10:00Z: bayon then takes it over")
    assert caught.value.exit_code == 1
    assert s3.head_object(Bucket=bucket, Key=KEY)["ETag"] == theirs.etag


def test_a_lock_released_while_waiting_is_then_taken(s3, bucket):
    theirs, _ = take(s3, bucket, run_id="run-1")
    clock = Clock(NOW + 1)

    def sleep(seconds):
        clock.sleep(seconds)
        assert release(s3, bucket, theirs) is True

    mine, replaced = acquire(s3, bucket, "dev", "bob", "run-2", 600, 60, clock, sleep, host="ci-b", pid=7)
    assert (clock.slept, replaced, mine.run_id, mine.acquired) == ([5.0], None, "run-2", "2026-12-02T02:00:06Z")


def test_an_expired_lock_is_taken_over(s3, bucket):
    theirs, _ = take(s3, bucket, run_id="run-1", host="ci-a", ttl_s=60)
    with pytest.raises(LockHeld, match="locked by alice"):
        take(s3, bucket, run_id="run-2", clock=Clock(NOW + 59), host="ci-b")
    late = Clock(NOW + 60)
    mine, replaced = take(s3, bucket, run_id="run-2", clock=late, host="ci-b")
    assert replaced == theirs and late.slept == []
    assert stored(s3, bucket)["run_id"] == "run-2" and mine.expires == "2026-12-02T02:11:00Z"


def test_a_dead_process_on_this_host_is_stale_a_live_one_is_not(s3, bucket):
    theirs, _ = take(s3, bucket, run_id="run-1", host="ci-a", pid=4242)
    asked = []

    def alive(pid):
        asked.append(pid)
        return True

    with pytest.raises(LockHeld):
        take(s3, bucket, run_id="run-2", host="ci-a", pid=5, alive=alive)
    assert asked == [4242]
    mine, replaced = take(s3, bucket, run_id="run-2", host="ci-a", pid=5, alive=lambda pid: pid != 4242)
    assert replaced == theirs and stored(s3, bucket)["pid"] == 5


def test_a_dead_pid_on_another_host_is_not_stale(s3, bucket):
    take(s3, bucket, run_id="run-1", host="ci-a", pid=4242)
    with pytest.raises(LockHeld, match=r"pid 4242 on ci-a"):
        take(s3, bucket, run_id="run-2", host="ci-b", alive=lambda pid: False)


@pytest.mark.parametrize("body", [b"{garbage", b'{"owner": "x"}', b"[]",
                                  b'{"owner": "a", "run_id": "r", "host": "h", "pid": 1, "acquired": "soon", '
                                  b'"expires": "later"}'])
def test_an_unreadable_lock_is_stale(s3, bucket, body):
    s3.put_object(Bucket=bucket, Key=KEY, Body=body)
    mine, replaced = take(s3, bucket, run_id="run-2")
    assert replaced is None and stored(s3, bucket)["run_id"] == "run-2"
    assert s3.head_object(Bucket=bucket, Key=KEY)["ETag"] == mine.etag


class TakenOverAfterRead:
    """An S3 client through which another run takes the stale lock over right after this one read it."""

    def __init__(self, s3, bucket):
        self.s3, self.bucket, self.winner = s3, bucket, None

    def __getattr__(self, name):
        return getattr(self.s3, name)

    def get_object(self, **kwargs):
        got = self.s3.get_object(**kwargs)
        if self.winner is None:
            self.winner = take(self.s3, self.bucket, run_id="run-winner", clock=Clock(NOW + 120), host="ci-w",
                               owner="wendy")
        return got


def test_of_two_takeovers_of_one_stale_lock_only_one_wins(s3, bucket):
    take(s3, bucket, run_id="run-dead", ttl_s=60)
    racing = TakenOverAfterRead(s3, bucket)
    with pytest.raises(LockHeld, match=r"locked by wendy \(run run-winner, pid 100 on ci-w\)"):
        take(racing, bucket, run_id="run-loser", clock=Clock(NOW + 120), host="ci-l")
    winner, replaced = racing.winner
    assert replaced.run_id == "run-dead"
    assert stored(s3, bucket)["run_id"] == "run-winner"
    assert s3.head_object(Bucket=bucket, Key=KEY)["ETag"] == winner.etag


def test_release_deletes_only_our_own_lock(s3, bucket):
    first, _ = take(s3, bucket, run_id="run-1", ttl_s=60)
    second, _ = take(s3, bucket, run_id="run-2", clock=Clock(NOW + 61), host="ci-b")
    assert release(s3, bucket, first) is False
    assert stored(s3, bucket)["run_id"] == "run-2"
    assert release(s3, bucket, second) is True
    assert s3.list_objects_v2(Bucket=bucket, Prefix="bayon/locks/").get("KeyCount") == 0
    assert release(s3, bucket, second) is False


def test_a_missing_bucket_is_a_lock_error_with_the_fix(s3):
    with pytest.raises(LockError, match=r"^could not take the lock s3://no-such-bucket-y/bayon/locks/dev.json: "
                                        r"NoSuchBucket: .*; check that the bucket exists "
                                        r"\(environments.dev.artifacts_bucket\) and the credentials allow "
                                        r"s3:PutObject$") as caught:
        take(s3, "no-such-bucket-y")
    assert not isinstance(caught.value, LockHeld)


def test_pid_alive(monkeypatch):
    assert pid_alive(os.getpid()) is True
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert pid_alive(gone.pid) is False

    def forbidden(pid, signal):
        raise PermissionError(pid)

    monkeypatch.setattr(lock.os, "kill", forbidden)
    assert pid_alive(1) is True


def test_host_and_pid_default_to_this_process(s3, bucket):
    clock = Clock()
    mine, _ = acquire(s3, bucket, "dev", "alice", "run-1", 60, 0, clock, clock.sleep)
    assert (mine.host, mine.pid) == (socket.gethostname(), os.getpid())
