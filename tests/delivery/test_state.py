"""The per-environment state: its pure transitions, and its store against a real moto_server (conditional writes,
a missing, corrupt, foreign or newer state, quarantine)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from ci.delivery import state
from ci.delivery.state import (Attempt, Backup, Deployment, EnvState, Incident, Safeguards, StateConflict,
                               StateCorrupt, StateError, StateTooNew, Store)

SHARES_MOTO = True

A, B, C, D = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)
T0, T1 = "2026-12-02T02:00:00Z", "2026-12-02T02:05:00Z"
NOW = 1796176800.0
"""2026-12-02T02:00:00Z in seconds since the epoch."""


def deployment(release: str, kind: str = "deploy", outcome: str = "deployed", previous: str | None = None,
               reason: str = "") -> Deployment:
    return Deployment(release=release, kind=kind, outcome=outcome, started=T0, finished=T1, run_id="run-1",
                      previous=previous, reason=reason)


def incident(n: int) -> Incident:
    return Incident(id=f"inc-{n}", at=T1, release=B, restored=A, phase="smoke", reason="GET / gave 500",
                    evidence=("GET https://x/ -> 500",), outcome="rolled_back", run_id="run-1")


ATTEMPT = Attempt(release=B, kind="deploy", run_id="run-2", owner="ci", started=T0, phase="change-set", previous=A,
                  stack_existed=True, executed=True)


def replayed(*deployments: Deployment, environment: str = "dev") -> EnvState:
    result = EnvState(environment=environment)
    for d in deployments:
        result = result.recorded(d)
    return result


# --- pure transitions -------------------------------------------------------------------------------------------

def test_recorded_outcomes_move_current_and_last_known_good():
    good = replayed(deployment(A), deployment(B, previous=A))
    assert (good.current, good.last_known_good) == (B, B)
    rolled = good.with_attempt(ATTEMPT).recorded(deployment(C, outcome="rolled_back", previous=B, reason="smoke"))
    assert (rolled.current, rolled.last_known_good, rolled.attempt) == (B, B, None)
    lost = good.recorded(deployment(C, outcome="unrecoverable", previous=B))
    assert (lost.current, lost.last_known_good) == (None, B)
    same = lost.recorded(deployment(C, outcome="unchanged"))
    assert (same.current, same.last_known_good) == (None, B)
    restored = lost.recorded(deployment(D, outcome="rolled_back", previous=None))
    assert (restored.current, restored.last_known_good) == (B, B)
    assert [(d.release, d.outcome) for d in same.history] == [(A, "deployed"), (B, "deployed"), (C, "unrecoverable"),
                                                              (C, "unchanged")]


def test_deployed_lists_only_releases_that_were_deployed():
    result = replayed(deployment(A), deployment(B, outcome="rolled_back"), deployment(C),
                      deployment(D, outcome="unrecoverable"))
    assert result.deployed() == {A, C}


@pytest.mark.parametrize(("history", "expected"), [
    ((), None),
    (((A, "deploy"),), None),
    (((A, "deploy"), (B, "deploy"), (C, "deploy")), B),
    (((A, "deploy"), (B, "deploy"), (C, "deploy"), (B, "rollback")), A),
    (((A, "deploy"), (B, "deploy"), (A, "rollback")), None),
    (((A, "deploy"), (B, "deploy"), (C, "deploy"), (A, "rollback"), (D, "deploy")), A),
    (((A, "deploy"), (B, "deploy"), (B, "deploy")), A),
    (((A, "deploy"), (B, "deploy"), (C, "deploy"), (B, "rollback"), (A, "rollback")), None),
])
def test_rollback_target_goes_back_through_the_releases(history, expected):
    """Manual rollbacks as `rollback` records them (kind rollback, outcome rolled_back): twice goes back twice."""
    records = [deployment(release, kind, outcome="rolled_back" if kind == "rollback" else "deployed")
               for release, kind in history]
    assert replayed(*records).rollback_target() == expected


def test_rollback_target_after_a_failed_rollback_is_the_last_known_good():
    lost = replayed(deployment(A), deployment(B), deployment(C, outcome="unrecoverable"))
    assert lost.current is None and lost.rollback_target() == B


def test_history_and_incidents_keep_only_the_newest():
    many = replayed(*(deployment(A if n % 2 else B, reason=str(n)) for n in range(101)))
    assert len(many.history) == 100 and many.history[0].reason == "1" and many.history[-1].reason == "100"
    under = replayed(*(deployment(A, reason=str(n)) for n in range(100)))
    assert len(under.history) == 100 and under.history[0].reason == "0"
    noted = EnvState(environment="dev")
    for n in range(51):
        noted = noted.with_incident(incident(n))
    assert len(noted.incidents) == 50 and noted.incidents[0].id == "inc-1" and noted.incidents[-1].id == "inc-50"


def test_attempt_is_set_and_cleared_without_touching_the_rest():
    base = replayed(deployment(A))
    busy = base.with_attempt(ATTEMPT)
    assert busy.attempt == ATTEMPT and base.attempt is None and busy.history == base.history
    assert busy.recorded(deployment(B, previous=A)).attempt is None


def test_models_are_frozen_and_strict():
    with pytest.raises(ValidationError):
        ATTEMPT.phase = "smoke"
    with pytest.raises(ValidationError, match="should match pattern"):
        deployment("A" * 40)
    with pytest.raises(ValidationError, match="does not match format"):
        Deployment(release=A, kind="deploy", outcome="deployed", started="2026-13-45T00:00:00Z", finished=T1,
                   run_id="r", previous=None)


def test_the_module_docstring_documents_every_field():
    for model in (EnvState, Deployment, Attempt, Incident):
        for name in model.model_fields:
            assert f"`{name}`" in state.__doc__, f"{model.__name__}.{name} is not documented"


# --- the store against moto --------------------------------------------------------------------------------------



def stored(s3, bucket, environment="dev") -> bytes:
    return s3.get_object(Bucket=bucket, Key=f"bayon/state/{environment}.json")["Body"].read()


def plant(s3, bucket, body: bytes, environment="dev") -> None:
    s3.put_object(Bucket=bucket, Key=f"bayon/state/{environment}.json", Body=body)


def test_absent_state_loads_fresh(s3, bucket):
    assert Store(s3, bucket, "dev").load() == (EnvState(environment="dev"), None)


def test_save_then_load_round_trips_sorted_indented_json(s3, bucket):
    store = Store(s3, bucket, "dev")
    written = replayed(deployment(A), deployment(B, previous=A)).with_attempt(ATTEMPT).with_incident(incident(1))
    etag = store.save(written, None)
    assert store.load() == (written, etag)
    body = stored(s3, bucket)
    assert body == (json.dumps(written.model_dump(mode="json"), sort_keys=True, indent=2) + "\n").encode()
    assert list(json.loads(body)) == sorted(json.loads(body)) and body.startswith(b'{\n  "attempt": {\n')
    assert json.loads(body)["schema_version"] == 2


def test_save_is_conditional_on_the_etag_read(s3, bucket):
    store = Store(s3, bucket, "dev")
    first = store.save(replayed(deployment(A)), None)
    with pytest.raises(StateConflict, match=r"changed since this run read it .*bayon history --env dev"):
        store.save(replayed(deployment(B)), None)  # it exists now: If-None-Match refused
    second = store.save(replayed(deployment(B)), first)
    assert second != first
    with pytest.raises(StateConflict):
        store.save(replayed(deployment(C)), first)  # stale ETag
    assert store.load() == (replayed(deployment(B)), second)


def test_save_after_the_state_was_removed_is_a_conflict(s3, bucket):
    store = Store(s3, bucket, "dev")
    etag = store.save(replayed(deployment(A)), None)
    s3.delete_object(Bucket=bucket, Key="bayon/state/dev.json")
    with pytest.raises(StateConflict):
        store.save(replayed(deployment(B)), etag)


def test_a_409_conditional_request_conflict_is_a_conflict():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error("put_object", service_error_code="ConditionalRequestConflict", http_status_code=409)
        with pytest.raises(StateConflict):
            Store(client, "bkt", "dev").save(EnvState(environment="dev"), '"e"')
        stub.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(StateError, match=r"could not write s3://bkt/bayon/state/dev.json: AccessDenied: .*"
                                             r"AccessDenied.*allow s3:PutObject") as caught:
            Store(client, "bkt", "dev").save(EnvState(environment="dev"), '"e"')
        assert not isinstance(caught.value, StateConflict)


def test_save_refuses_another_environments_state(s3, bucket):
    with pytest.raises(StateError, match="refusing to write the state of environment prod to s3://"):
        Store(s3, bucket, "dev").save(EnvState(environment="prod"), None)
    assert Store(s3, bucket, "dev").load()[1] is None


@pytest.mark.parametrize(("body", "detail"), [
    (b"{not json", r"\(not JSON: Expecting property name"),
    (b"\xff\xfe", r"\(not JSON: "),
    (b"[1, 2]", r"\(a JSON list, not an object\)"),
    (b'{"schema_version": "1", "environment": "dev"}', r'\(schema_version is "1", not one of 1, 2\)'),
    (b'{"schema_version": true, "environment": "dev"}', r"\(schema_version is true, not one of 1, 2\)"),
    (b'{"environment": "dev"}', r"\(schema_version is null, not one of 1, 2\)"),
    (b'{"schema_version": 1, "environment": "prod"}', r"\(it is the state of environment 'prod'\)"),
    (b'{"schema_version": 1, "environment": "dev", "current": "abc"}', r"\(current: String should match pattern"),
    (b'{"schema_version": 1, "environment": "dev", "current": 2, "last_known_good": 3}',
     r"\((current|last_known_good): Input should be a valid string \(and 1 more\)\)"),
    (b'{"schema_version": 1, "environment": "dev", "colour": 1}', r"\(colour: Extra inputs are not permitted\)"),
])
def test_corrupt_states_are_refused_with_what_is_wrong(s3, bucket, body, detail):
    plant(s3, bucket, body)
    with pytest.raises(StateCorrupt, match=rf"^s3://{bucket}/bayon/state/dev.json is not a valid state {detail}"):
        Store(s3, bucket, "dev").load()


def test_a_newer_schema_says_upgrade_and_is_not_corrupt(s3, bucket):
    plant(s3, bucket, b'{"schema_version": 3, "environment": "dev", "future": true}')
    with pytest.raises(StateTooNew, match=r"has schema_version 3, newer than this bayon's 2: upgrade bayon") as caught:
        Store(s3, bucket, "dev").load()
    assert not isinstance(caught.value, StateCorrupt)


def test_quarantine_moves_the_bad_object_aside(s3, bucket):
    plant(s3, bucket, b"{broken")
    store = Store(s3, bucket, "dev", clock=lambda: NOW)
    with pytest.raises(StateCorrupt):
        store.load()
    aside = store.quarantine()
    assert aside == "bayon/state/dev.corrupt-20261202T020000Z.json"
    assert s3.get_object(Bucket=bucket, Key=aside)["Body"].read() == b"{broken"
    assert store.load() == (EnvState(environment="dev"), None)
    rebuilt = store.save(replayed(deployment(A)), None)
    assert store.load() == (replayed(deployment(A)), rebuilt)


class RewritesBeforeDelete:
    """An S3 client through which another run rewrites the state just before the quarantine deletes it."""

    def __init__(self, s3, bucket):
        self.s3, self.bucket = s3, bucket

    def __getattr__(self, name):
        return getattr(self.s3, name)

    def delete_object(self, **kwargs):
        plant(self.s3, self.bucket, state.to_bytes(replayed(deployment(C))))
        return self.s3.delete_object(**kwargs)


def test_quarantine_never_deletes_a_state_rewritten_meanwhile(s3, bucket):
    plant(s3, bucket, b"{broken")
    client = RewritesBeforeDelete(s3, bucket)
    with pytest.raises(StateConflict, match="changed while bayon moved it aside to bayon/state/dev.corrupt-"):
        Store(client, bucket, "dev", clock=lambda: NOW).quarantine()
    assert Store(s3, bucket, "dev").load()[0] == replayed(deployment(C))


def test_an_unreachable_bucket_is_a_state_error_with_the_fix(s3):
    with pytest.raises(StateError, match=r"^could not read s3://no-such-bucket-x/bayon/state/dev.json: NoSuchBucket: "
                                         r"An error occurred \(NoSuchBucket\) .*; check that the bucket exists "
                                         r"\(environments.dev.artifacts_bucket\) and the credentials allow "
                                         r"s3:GetObject$") as caught:
        Store(s3, "no-such-bucket-x", "dev").load()
    assert not isinstance(caught.value, StateCorrupt)


def test_a_version_1_state_still_loads_and_is_written_back_as_version_2(s3, bucket):
    """Version 1 deployments have no `safeguards`: they load as None, and the next write upgrades the file."""
    v1 = {"schema_version": 1, "environment": "dev", "last_known_good": A, "current": A, "attempt": None,
          "incidents": [], "history": [{"release": A, "kind": "deploy", "outcome": "deployed", "started": T0,
                                        "finished": T1, "run_id": "run-1", "previous": None, "reason": ""}]}
    plant(s3, bucket, json.dumps(v1).encode())
    store = Store(s3, bucket, "dev")
    found, etag = store.load()
    assert (found.schema_version, found.history[0].safeguards, found.last_known_good) == (1, None, A)
    backup = Backup(logical_id="ListingsTable", table="t-ListingsTable-1", name="bayon-dev-ListingsTable-x",
                    arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/backup/1", status="AVAILABLE", created=T0)
    guarded = deployment(B, previous=A).model_copy(update={"safeguards": Safeguards(
        snapshot="bayon/snapshots/dev/run-2/", backups=(backup,), protected=True, override_reason="drop the index")})
    store.save(found.recorded(guarded), etag)
    body = json.loads(stored(s3, bucket))
    assert body["schema_version"] == 2 and body["history"][0]["safeguards"] is None
    assert body["history"][1]["safeguards"]["backups"][0]["arn"].endswith("/backup/1")
    again = store.load()[0]
    assert again.schema_version == 2 and again.history[1].safeguards.override_reason == "drop the index"


def test_an_attempt_keeps_the_policy_an_override_lifted_and_one_written_without_it_still_loads(s3, bucket):
    """`policy_before` (new in schema 2): the text of a policy not bayon's, lifted by --override-reason, for the next
    run to put back; a state written before it had the field loads with none."""
    store = Store(s3, bucket, "dev")
    theirs = '{"Statement": [{"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}'
    lifted = ATTEMPT.model_copy(update={"policy_lifted": "--override-reason: ticket 9", "policy_before": theirs})
    store.save(EnvState(environment="dev").with_attempt(lifted), None)
    assert store.load()[0].attempt.policy_before == theirs
    body = json.loads(stored(s3, bucket))
    del body["attempt"]["policy_before"]
    s3.put_object(Bucket=bucket, Key=store.key, Body=json.dumps(body).encode())
    assert store.load()[0].attempt.policy_before is None
