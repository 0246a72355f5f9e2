"""The incident report (Markdown) and the history tables, from states built by hand and one read back from a
real moto_server."""

from __future__ import annotations

import pytest

from ci.core.report import Table
from ci.delivery import history
from ci.delivery.incident import markdown
from ci.delivery.state import Attempt, Backup, Deployment, EnvState, Incident, Safeguards, Store
from tests.delivery.conftest import moto_client

SHARES_MOTO = True

A, B, C = ("a" * 40, "b" * 40, "0123456789abcdef" + "c" * 24)
INCIDENT = Incident(id="dev-20261202T020500Z", at="2026-12-02T02:05:00Z", release=B, restored=A, phase="smoke",
                    reason="GET /api/health gave 500,\n  expected 200",
                    evidence=("GET https://x/api/health -> 500 after 3 attempts", "alarm api-errors:\nOK"),
                    outcome="rolled_back", run_id="run-42")


def test_markdown_of_a_rolled_back_incident():
    assert markdown(INCIDENT, "dev", "coagent-dev") == f"""\
# Incident dev-20261202T020500Z: dev, release bbbbbbbbbbbb failed in smoke

## What failed

- Phase: smoke
- Reason: GET /api/health gave 500, expected 200
- When: 2026-12-02T02:05:00Z (run run-42)
- Environment: dev (stack `coagent-dev`)

## Versions

- Failed release: `{B}`
- Restored release: `{A}`

## Evidence

- GET https://x/api/health -> 500 after 3 attempts
- alarm api-errors: OK

## Outcome

Rolled back: the environment runs its last known good release `{A}` again.

## Next steps

- See the environment's releases and incidents: `bayon history --env dev`
- See the stack's events: `aws cloudformation describe-stack-events --stack-name coagent-dev`
- Check that what runs now passes: `bayon smoke --env dev`
- Reproduce the smoke failure of `bbbbbbbbbbbb`, fix it, then deploy the new release: `bayon package --env dev --commit-sha SHA`, then `bayon deploy --env dev --release SHA`
"""


def test_markdown_of_an_unrecoverable_incident_names_no_restored_release():
    lost = INCIDENT.model_copy(update={"restored": None, "outcome": "unrecoverable", "evidence": (),
                                       "phase": "frontend", "reason": ""})
    text = markdown(lost, "prod", "coagent-prod")
    assert text.startswith("# Incident dev-20261202T020500Z: prod, release bbbbbbbbbbbb failed in frontend\n")
    assert "- Restored release: none\n" in text and "- Reason: (none given)\n" in text
    assert "## Evidence\n\n- (none recorded)\n" in text
    assert "\nUnrecoverable: the environment is NOT at a known release.\n" in text
    assert "- Bring it back to a known release: `bayon rollback --env prod --to RELEASE`" in text
    assert "bayon smoke" not in text and "last known good release" not in text


STATE = EnvState(
    environment="dev", last_known_good=A, current=A,
    history=(Deployment(release=A, kind="deploy", outcome="deployed", started="2026-12-01T10:00:00Z",
                        finished="2026-12-01T10:04:00Z", run_id="r1", previous=None),
             Deployment(release=B, kind="deploy", outcome="rolled_back", started="2026-12-02T02:00:00Z",
                        finished="2026-12-02T02:07:00Z", run_id="r2", previous=A, reason="smoke: 500")),
    incidents=(INCIDENT,),
    attempt=Attempt(release=C, kind="rollback", run_id="r3", owner="ci", started="2026-12-02T03:00:00Z",
                    phase="change-set", previous=A, stack_existed=True))


def test_history_tables():
    deployments, incidents, summary, backups = history.tables(STATE)
    assert deployments == Table(
        "deployments, newest first", ("started", "kind", "release", "outcome", "previous", "reason"),
        (("2026-12-02T02:00:00Z", "deploy", "bbbbbbbbbbbb", "rolled_back", "aaaaaaaaaaaa", "smoke: 500"),
         ("2026-12-01T10:00:00Z", "deploy", "aaaaaaaaaaaa", "deployed", None, "")), "history/dev")
    assert incidents == Table(
        "incidents, newest first", ("id", "at", "release", "phase", "outcome", "reason"),
        ((INCIDENT.id, "2026-12-02T02:05:00Z", "bbbbbbbbbbbb", "smoke", "rolled_back", INCIDENT.reason),), "history/dev")
    assert summary == Table(
        "last known good", ("environment", "last known good", "current", "attempt in progress"),
        (("dev", A, A, "rollback 0123456789ab at change-set (run r3, since 2026-12-02T03:00:00Z)"),), "history/dev")
    assert backups == Table("backups, newest first (none)", history.BACKUP_COLUMNS, (), "history/dev")


@pytest.mark.parametrize("environment", ["dev", "production"])
def test_history_of_a_fresh_environment(environment):
    assert [(t.title, t.rows, t.step) for t in history.tables(EnvState(environment=environment))] == [
        ("deployments, newest first (none yet)", (), f"history/{environment}"),
        ("incidents, newest first (none)", (), f"history/{environment}"),
        ("last known good", ((environment, None, None, None),), f"history/{environment}"),
        ("backups, newest first (none)", (), f"history/{environment}")]


def test_history_of_the_stored_state(moto_url):
    s3 = moto_client(moto_url, "s3")
    s3.create_bucket(Bucket="history-art")
    store = Store(s3, "history-art", "dev")
    store.save(STATE, None)
    assert history.tables(store.load()[0]) == history.tables(STATE)


def test_history_lists_the_backups_newest_first_with_their_snapshot_and_override():
    def backup(logical: str) -> Backup:
        return Backup(logical_id=logical, table=f"t-{logical}-1", name=f"bayon-prod-{logical}-20261202T020000Z",
                      arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/t-{logical}-1/backup/1", status="AVAILABLE",
                      created="2026-12-02T02:00:00Z")

    def deployed(release: str, at: str, guard: Safeguards | None) -> Deployment:
        return Deployment(release=release, kind="deploy", outcome="deployed", started=at, finished=at, run_id="r",
                          previous=None, safeguards=guard)

    found = EnvState(environment="prod", history=(
        deployed(A, "2026-12-01T10:00:00Z", None),
        deployed(B, "2026-12-02T02:00:00Z", Safeguards(snapshot="bayon/snapshots/prod/r1/", protected=True)),
        deployed(C, "2026-12-02T03:00:00Z", Safeguards(snapshot="bayon/snapshots/prod/r2/", protected=True,
                                                      backups=(backup("Listings"), backup("Users")),
                                                      override_reason="rebuild the GSI"))))
    backups = history.tables(found)[3]
    assert backups.columns == ("started", "release", "table", "backup", "arn", "snapshot", "override reason")
    assert [row[:4] + row[5:] for row in backups.rows] == [
        ("2026-12-02T03:00:00Z", C[:12], "Listings", "bayon-prod-Listings-20261202T020000Z",
         "bayon/snapshots/prod/r2/", "rebuild the GSI"),
        ("2026-12-02T03:00:00Z", C[:12], "Users", "bayon-prod-Users-20261202T020000Z",
         "bayon/snapshots/prod/r2/", "rebuild the GSI"),
        ("2026-12-02T02:00:00Z", B[:12], None, None, "bayon/snapshots/prod/r1/", None)]
    assert backups.rows[0][4].endswith("t-Listings-1/backup/1")
