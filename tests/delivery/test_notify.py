"""Notifications: which channels fire, the Slack payload within Block Kit's limits (checked by slack_sdk's own
validators), the PagerDuty event as Events API v2 requires it, and dead endpoints (one answering 500, one that hangs)
that cost at most the timeout and end as a warning, never an exception."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, HeaderBlock

from ci.config.model import Notifications, PagerDuty, Slack
from ci.delivery import notify
from ci.integrations import pagerduty, slack
from tests.delivery.local_http import Answer, self_signed, serve

RELEASE = "4b6472266afd7b471e86085a6659e8c7f2b119da"
WEBHOOK_PATH = "/services/T000/B000/" + "s3cretWebh00k" * 2
ROUTING_KEY = "R0UT1NGk3y" + "x" * 22
LINKS = {"Run": "https://github.com/octo-org/coagent/actions/runs/42", "App": "https://prod.example.com"}
FAILED = notify.Event("deploy", "production", RELEASE, "rolled_back", 312.4, LINKS, "smoke: GET /health answered 503")
DEPLOYED = notify.Event("deploy", "production", RELEASE, "deployed", 75, LINKS)
EVENTS_V2 = {
    # The Events API v2 trigger event (PagerDuty's "Send an alert event" reference): required fields, limits, enums.
    "type": "object", "additionalProperties": False,
    "required": ["routing_key", "event_action", "payload"],
    "properties": {
        "routing_key": {"type": "string", "minLength": 32, "maxLength": 32},
        "event_action": {"enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {"type": "string", "maxLength": 255},
        "client": {"type": "string"}, "client_url": {"type": "string"},
        "payload": {
            "type": "object", "additionalProperties": False, "required": ["summary", "source", "severity"],
            "properties": {
                "summary": {"type": "string", "minLength": 1, "maxLength": 1024},
                "source": {"type": "string", "minLength": 1},
                "severity": {"enum": ["critical", "error", "warning", "info"]},
                "timestamp": {"type": "string", "format": "date-time"},
                "component": {"type": "string"}, "group": {"type": "string"}, "class": {"type": "string"},
                "custom_details": {"type": "object"},
            },
        },
        "links": {"type": "array", "items": {"type": "object", "additionalProperties": False, "required": ["href"],
                                              "properties": {"href": {"type": "string"}, "text": {"type": "string"}}}},
        "images": {"type": "array"},
    },
}


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """The Events API is HTTPS only (the client refuses http://): a local HTTPS server, its certificate trusted."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def servers(tls, monkeypatch):
    """serve(answer) -> (Slack's webhook URL, PagerDuty's API URL, what each was sent)."""
    from contextlib import contextmanager, ExitStack

    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))

    @contextmanager
    def both(answer):
        with ExitStack() as stack:
            webhook, slack_seen = stack.enter_context(serve(answer))
            events, events_seen = stack.enter_context(serve(answer, tls))
            yield webhook + WEBHOOK_PATH, events, slack_seen, events_seen

    return both


def config(slack_events=("success", "failure", "rollback"), slack_envs=(), timeout_s: float = 2.0) -> Notifications:
    return Notifications(slack=Slack(events=list(slack_events), environments=list(slack_envs), timeout_s=timeout_s),
                         pagerduty=PagerDuty(environments=["production"], timeout_s=timeout_s))


def valid_events_v2(body: dict) -> None:
    jsonschema.validate(body, EVENTS_V2, format_checker=jsonschema.FormatChecker())


def valid_block_kit(payload: dict) -> None:
    """Every block parsed back by slack_sdk and validated against its limits; at most 50 blocks; a fallback text."""
    assert payload["text"] and len(payload["blocks"]) <= slack.BLOCKS_MAX
    for data in payload["blocks"]:
        Block.parse(data).validate_json()
        if data["type"] == "section" and "fields" in data:
            assert len(data["fields"]) <= slack.FIELDS_MAX


# 1. which channels fire

@pytest.mark.parametrize("event, cfg, expected", [
    (DEPLOYED, config(), ("slack",)),  # a success never pages
    (FAILED, config(), ("slack", "pagerduty")),
    (notify.Event("deploy", "production", RELEASE, "unchanged", 3), config(), ("slack", "pagerduty")),
    (notify.Event("rollback", "production", RELEASE, "rolled_back", 40), config(), ("slack", "pagerduty")),
    (notify.Event("deploy", "staging", RELEASE, "unrecoverable", 9), config(), ("slack",)),  # pages production only
    (DEPLOYED, config(slack_events=("failure", "rollback")), ()),
    (FAILED, config(slack_envs=("staging",)), ("pagerduty",)),
    (notify.Event("deploy", "dev", RELEASE, "deployed", 9), Notifications(), ()),
])
def test_the_config_decides_which_channels_fire(event, cfg, expected):
    assert notify.channels(cfg, event) == expected


@pytest.mark.parametrize("function, outcome, kind", [
    ("deploy", "deployed", "success"), ("deploy", "rolled_back", "rollback"), ("deploy", "unchanged", "failure"),
    ("deploy", "unrecoverable", "failure"), ("rollback", "rolled_back", "rollback"),
    ("rollback", "unrecoverable", "failure"), ("rollback", "unchanged", "failure"),
])
def test_an_outcome_is_a_success_a_failure_or_a_rollback(function, outcome, kind):
    assert notify.kind(notify.Event(function, "dev", RELEASE, outcome, 1)) == kind


# 2. the payloads

def test_the_slack_message_says_release_environment_duration_and_links_within_block_kits_limits():
    payload = slack.payload(notify.message(FAILED))
    valid_block_kit(payload)
    header, facts, reason, actions, _ = payload["blocks"]
    assert header["text"]["text"] == ":rewind: Release 4b6472266afd rolled back on production"
    assert [f["text"] for f in facts["fields"]][:4] == ["*Environment*\nproduction", "*Release*\n4b6472266afd",
                                                        "*Outcome*\nrolled_back", "*Duration*\n5 min 12 s"]
    assert reason["text"]["text"] == "smoke: GET /health answered 503"
    assert [(b["text"]["text"], b["url"]) for b in actions["elements"]] == list(LINKS.items())


def test_long_texts_are_cut_to_block_kits_limits():
    event = notify.Event("deploy", "production", "rc-" + "9" * 300, "unchanged", 1, {"Run": "https://x.test/" +
                         "r" * 4000}, "why " * 2000)
    payload = slack.payload(notify.message(event))
    valid_block_kit(payload)
    header, facts, reason, *rest = payload["blocks"]
    assert len(header["text"]["text"]) == slack.HEADER_MAX and header["text"]["text"].endswith("…")
    assert len(reason["text"]["text"]) == slack.SECTION_MAX
    assert all(len(f["text"]) <= slack.FIELD_MAX for f in facts["fields"])
    assert [b["type"] for b in rest] == ["context"]  # a URL over 3000 characters is no button


def test_slack_sdks_validators_refuse_what_block_kit_refuses():
    with pytest.raises(SlackObjectFormationError, match="150"):
        HeaderBlock(text="x" * 151).to_dict()


def test_the_pagerduty_alert_has_the_events_v2_fields():
    page = notify.alert(FAILED, "critical")
    assert page.summary == ("deploy of 4b6472266afd on production: rolled_back (smoke: GET /health answered 503)")
    assert (page.source, page.severity, page.dedup_key) == ("bayon/production", "critical",
                                                           f"bayon/production/deploy/{RELEASE}")
    assert page.custom_details["release"] == RELEASE and page.links == LINKS


# 3. sending

def enqueued(n: int, path: str) -> Answer:
    if path == "/v2/enqueue":
        return Answer(202, json.dumps({"status": "success", "message": "Event processed",
                                       "dedup_key": f"bayon/production/deploy/{RELEASE}"}).encode())
    return Answer(200, b"ok")


def test_both_channels_are_sent_and_their_bodies_are_valid(servers):
    with servers(enqueued) as (webhook, events, to_slack, to_pagerduty):
        findings = notify.send(config(), FAILED, webhook, ROUTING_KEY, pagerduty_url=events)
    assert [(f.step, f.severity, f.rule) for f in findings] == [("notify/slack", "info", "notify/sent"),
                                                                ("notify/pagerduty", "info", "notify/sent")]
    ((method, path, _, body),) = to_slack.requests
    assert (method, path, json.loads(body)) == ("POST", WEBHOOK_PATH, slack.payload(notify.message(FAILED)))
    ((method, path, _, body),) = to_pagerduty.requests
    event = json.loads(body)
    valid_events_v2(event)
    assert (method, path) == ("POST", "/v2/enqueue")
    assert (event["routing_key"], event["event_action"], event["payload"]["severity"]) == (ROUTING_KEY, "trigger",
                                                                                            "critical")
    assert event["links"] == [{"href": href, "text": text} for text, href in LINKS.items()]


def test_an_event_over_the_summary_limit_is_cut_and_still_valid(servers):
    with servers(enqueued) as (_, events, _, to_pagerduty):
        findings = notify.send(config(), notify.Event("deploy", "production", RELEASE, "unchanged", 1, {},
                                                      "x" * 5000), None, ROUTING_KEY, pagerduty_url=events)
    (event,) = [json.loads(body) for *_, body in to_pagerduty.requests]
    valid_events_v2(event)
    assert len(event["payload"]["summary"]) == pagerduty.SUMMARY_MAX
    assert [(f.step, f.severity) for f in findings] == [("notify/slack", "warning"), ("notify/pagerduty", "info")]


def test_an_events_body_missing_a_required_field_is_refused_by_the_schema():
    with pytest.raises(jsonschema.ValidationError, match="'source' is a required property"):
        valid_events_v2({"routing_key": ROUTING_KEY, "event_action": "trigger",
                         "payload": {"summary": "s", "severity": "critical"}})


def test_an_endpoint_answering_500_is_a_warning_without_retries(servers):
    with servers(lambda n, path: Answer(500, b"internal error")) as (webhook, events, to_slack, to_pagerduty):
        started = time.monotonic()
        findings = notify.send(config(), FAILED, webhook, ROUTING_KEY, pagerduty_url=events)
        took = time.monotonic() - started
    assert [(f.step, f.severity) for f in findings] == [("notify/slack", "warning"), ("notify/pagerduty", "warning")]
    assert "answered 500" in findings[0].message and "answered 500" in findings[1].message
    assert len(to_slack.requests) == len(to_pagerduty.requests) == 1 and took < 1.5  # once each: no retry sleeps
    assert_no_secret(findings)


def test_an_endpoint_that_hangs_costs_the_timeout_and_is_a_warning(servers):
    timeout = 0.4
    with servers(lambda n, path: Answer(200, b"ok", delay_s=2)) as (webhook, events, _, _):
        started = time.monotonic()
        findings = notify.send(config(timeout_s=timeout), FAILED, webhook, ROUTING_KEY, pagerduty_url=events)
        took = time.monotonic() - started
    assert took < timeout + notify.GRACE_S, took  # both at once, each within its timeout
    assert [(f.step, f.severity) for f in findings] == [("notify/slack", "warning"), ("notify/pagerduty", "warning")]
    assert "timed out" in findings[0].message.lower() and "timed out" in findings[1].message.lower()
    assert_no_secret(findings)


def test_an_unreachable_endpoint_is_a_warning(servers):
    with servers(enqueued) as (webhook, events, _, _):
        pass  # the ports are closed now
    findings = notify.send(config(), FAILED, webhook, ROUTING_KEY, pagerduty_url=events)
    assert [f.severity for f in findings] == ["warning", "warning"]
    assert "could not be reached" in findings[0].message and "could not be reached" in findings[1].message
    assert_no_secret(findings)


def test_a_configured_channel_without_its_secret_is_a_warning_and_sends_nothing():
    findings = notify.send(config(), FAILED, None, "")
    assert [(f.step, f.severity) for f in findings] == [("notify/slack", "warning"), ("notify/pagerduty", "warning")]
    assert "--slack-webhook" in findings[0].message and "--pagerduty-routing-key" in findings[1].message


@pytest.mark.parametrize("key", ["", ROUTING_KEY])
def test_why_the_events_api_could_not_be_reached_is_said_with_or_without_a_key(key):
    alert = pagerduty.Alert("deploy failed", "bayon", "critical", "k", "2026-12-01T10:00:00Z")
    with pytest.raises(pagerduty.PagerDutyError) as refused:
        pagerduty.trigger(key, alert, 1.0, api_url="http://127.0.0.1:9")  # the library refuses it before sending
    assert str(refused.value) == ("the Events API could not be reached (UrlError: API base URL must use scheme "
                                  "https://)")


def assert_no_secret(findings) -> None:
    text = json.dumps([f.to_json() for f in findings])
    assert "s3cretWebh00k" not in text and ROUTING_KEY not in text


def test_a_channel_slower_than_its_timeout_is_not_waited_for():
    started = time.monotonic()
    (finding,) = notify._run({"slack": (lambda: time.sleep(3) or "posted", 0.2)})
    assert time.monotonic() - started < 0.2 + notify.GRACE_S + 0.2
    assert (finding.severity, finding.message) == ("warning", "slack notification did not answer within 0.2 s; "
                                                              "it is not waited for")
