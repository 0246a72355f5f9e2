"""ci.delivery.smoke: HTTP checks against a local server on 127.0.0.1 (status, body, latency, retries with backoff,
the deadline), and table and bucket checks against the moto server."""

from __future__ import annotations

import re
import time

import pytest

from ci.config.model import SmokeCheck
from ci.delivery import smoke
from ci.delivery.phases import PhaseFailed
from ci.delivery.smoke import CheckResult
from ci.executors.local.services import free_port
from tests.delivery.conftest import moto_client
from tests.delivery.fake_time import FakeTime
from tests.delivery.local_http import Answer, serve

SHARES_MOTO = True

LISTINGS = Answer(200, b'{"listings": []}')


def _run(checks, outputs=None, resources=None, fake: FakeTime | None = None, deadline_s: float = 300, **clients):
    fake = fake or FakeTime()
    return smoke.run(checks, outputs or {}, resources or {}, clients.get("dynamodb"), clients.get("s3"),
                     fake.clock() + deadline_s, fake.clock, fake.sleep)


def test_an_output_url_and_path_answering_the_status_and_text_passes():
    with serve(lambda n, path: LISTINGS) as (url, seen):
        [result] = _run([SmokeCheck(output="ApiUrl", path="/listings", contains="listings")],
                        {"ApiUrl": f"{url}/Prod/", "BucketName": "b"})
    assert (result.label, result.kind, result.passed, result.attempts) == ("ApiUrl/listings", "http", True, 1)
    assert re.fullmatch(rf"{url}/Prod/listings answered 200 in \d+ ms", result.detail)
    assert [(method, path) for method, path, _, _ in seen.requests] == [("GET", "/Prod/listings")]


@pytest.mark.parametrize(("answer", "expect", "detail"), [
    (Answer(404, b"not found"), {}, "answered 404, expected 200"),
    (Answer(200, b"hello"), {"contains": "listings"}, "answered 200 without 'listings' in its 5-byte body"),
    (Answer(302, b""), {"status": 201}, "answered 302, expected 201"),
])
def test_a_wrong_status_or_a_body_without_the_text_fails(answer, expect, detail):
    with serve(lambda n, path: answer) as (url, seen):
        [result] = _run([SmokeCheck(url=f"{url}/", retries=0, **expect)])
    assert (result.passed, result.attempts, result.detail) == (False, 1, f"{url}/ {detail}")


def test_an_expected_error_status_passes():
    with serve(lambda n, path: Answer(404, b"no such page")) as (url, _):
        [result] = _run([SmokeCheck(url=f"{url}/missing", status=404, contains="no such")])
    assert result.passed and result.attempts == 1


def test_an_answer_slower_than_max_latency_fails_and_a_fast_one_passes():
    with serve(lambda n, path: Answer(200, b"ok", delay_s=0.3 if path == "/slow" else 0)) as (url, _):
        slow, fast = smoke.run([SmokeCheck(url=f"{url}/slow", max_latency_ms=150, retries=0),
                                SmokeCheck(url=f"{url}/fast", max_latency_ms=2000, retries=0)],
                               {}, {}, None, None, time.monotonic() + 30, time.monotonic, time.sleep)
    assert not slow.passed and slow.latency_ms is not None and slow.latency_ms >= 300
    assert re.fullmatch(rf"{url}/slow answered 200, in \d+ ms: over max_latency_ms 150", slow.detail)
    assert fast.passed and fast.latency_ms is not None and fast.latency_ms < 2000


def test_retries_back_off_exponentially_until_the_service_answers():
    with serve(lambda n, path: Answer(503, b"warming up") if n < 2 else LISTINGS) as (url, seen):
        fake = FakeTime()
        [result] = _run([SmokeCheck(url=f"{url}/", retries=3, backoff_s=2)], fake=fake)
    assert (result.passed, result.attempts, fake.slept, len(seen.requests)) == (True, 3, [2, 4], 3)


def test_retries_spent_fail_with_the_last_answer():
    with serve(lambda n, path: Answer(503, b"down")) as (url, seen):
        fake = FakeTime()
        [result] = _run([SmokeCheck(url=f"{url}/", retries=2, backoff_s=1.5)], fake=fake)
    assert (result.passed, result.attempts, result.detail) == (False, 3, f"{url}/ answered 503, expected 200")
    assert fake.slept == [1.5, 3.0] and len(seen.requests) == 3


def test_the_deadline_bounds_the_retries_and_the_next_check_runs_in_the_time_left():
    with serve(lambda n, path: Answer(503) if path == "/a" else LISTINGS) as (url, seen):
        fake = FakeTime()
        first, second = _run([SmokeCheck(url=f"{url}/a", retries=5, backoff_s=2),
                              SmokeCheck(url=f"{url}/b")], fake=fake, deadline_s=5)
    assert (first.passed, first.attempts, fake.slept) == (False, 2, [2])  # retry 2 would come at 2 + 4 s, after 5 s
    assert first.detail == f"{url}/a answered 503, expected 200; the smoke phase's deadline came before retry 2"
    assert (second.passed, second.attempts) == (True, 1)
    assert [path for _, path, _, _ in seen.requests] == ["/a", "/a", "/b"]


def test_a_check_is_not_run_once_the_deadline_has_passed():
    with serve(lambda n, path: LISTINGS) as (url, seen):
        [result] = _run([SmokeCheck(url=f"{url}/")], deadline_s=0)
    assert result == CheckResult(f"{url}/", "http", False, 0, None, "not run: the smoke phase's deadline had passed")
    assert seen.requests == []


def test_no_answer_fails_with_the_error():
    closed = f"http://127.0.0.1:{free_port()}/"
    [result] = _run([SmokeCheck(url=closed, retries=0)])
    assert not result.passed and result.detail.startswith(f"no answer from {closed}: URLError: ")


def test_a_missing_output_fails_naming_the_outputs_and_the_other_checks_still_run():
    with serve(lambda n, path: LISTINGS) as (url, _):
        missing, passing = _run([SmokeCheck(output="ApiUrl"), SmokeCheck(url=f"{url}/", name="site")],
                                {"TableName": "t", "BucketName": "b"})
    assert missing == CheckResult("ApiUrl", "http", False, 0, None,
                                  "the stack has no output ApiUrl (its outputs: BucketName, TableName); fix the smoke "
                                  "check's output, or add it to the template's Outputs")
    assert passing.label == "site" and passing.passed


def test_table_and_bucket_checks_against_moto(moto_url):
    dynamodb, s3 = moto_client(moto_url, "dynamodb"), moto_client(moto_url, "s3")
    dynamodb.create_table(TableName="coagent-listings", BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    s3.create_bucket(Bucket="coagent-listings-bucket")
    resources = {"ListingsTable": "coagent-listings", "ListingsBucket": "coagent-listings-bucket",
                 "GoneTable": "coagent-gone", "GoneBucket": "coagent-gone-bucket"}
    checks = [SmokeCheck(table="ListingsTable"), SmokeCheck(bucket="ListingsBucket"),
              SmokeCheck(table="GoneTable", retries=0), SmokeCheck(bucket="GoneBucket", retries=0),
              SmokeCheck(table="NoSuchTable")]
    table, bucket, gone_table, gone_bucket, unknown = _run(checks, resources=resources, dynamodb=dynamodb, s3=s3)
    assert (table.kind, table.passed) == ("table", True)
    assert re.fullmatch(r"table coagent-listings readable in \d+ ms", table.detail)
    assert (bucket.kind, bucket.passed) == ("bucket", True)
    assert re.fullmatch(r"bucket coagent-listings-bucket reachable in \d+ ms", bucket.detail)
    assert (gone_table.passed, gone_table.attempts) == (False, 1)
    assert gone_table.detail.startswith("table coagent-gone: ResourceNotFoundException: ")
    assert (gone_bucket.passed, gone_bucket.detail) == (False, "bucket coagent-gone-bucket: ClientError: An error "
                                                               "occurred (404) when calling the HeadBucket operation: "
                                                               "Not Found")
    assert (unknown.passed, unknown.attempts, unknown.detail) == (
        False, 0, "the stack has no resource NoSuchTable (its logical ids: GoneBucket, GoneTable, ListingsBucket, "
                  "ListingsTable); fix the smoke check's logical id")


def test_require_passed_raises_naming_the_failed_checks_with_every_result_as_evidence():
    ok = CheckResult("site", "http", True, 1, 12.0, "https://x/ answered 200 in 12 ms")
    bad = CheckResult("ListingsTable", "table", False, 4, 3.0, "table t: ResourceNotFoundException: gone")
    smoke.require_passed([ok, ok])
    with pytest.raises(PhaseFailed) as failed:
        smoke.require_passed([ok, bad])
    assert failed.value.phase == "smoke" and failed.value.exit_code == 1
    assert str(failed.value) == ("smoke: 1 of 2 smoke checks failed: ListingsTable: table t: "
                                 "ResourceNotFoundException: gone")
    assert failed.value.evidence == ("passed http site after 1 attempt(s): https://x/ answered 200 in 12 ms",
                                     "FAILED table ListingsTable after 4 attempt(s): table t: "
                                     "ResourceNotFoundException: gone")
