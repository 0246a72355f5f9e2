"""Slack messages through an incoming webhook: Block Kit built with slack_sdk's models (which check Block Kit's
limits when turned into JSON) and posted with slack_sdk's WebhookClient, once, within a timeout.

Texts are cut to fit the limits before they are built (a header 150 characters, a section's text 3000, at most 10
fields of 2000), so a long reason never makes a message Slack would refuse. The webhook URL is a secret: it is in no
message this module returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from slack_sdk.models.blocks import (ActionsBlock, ButtonElement, ContextBlock, HeaderBlock, MarkdownTextObject,
                                     PlainTextObject, SectionBlock)
from slack_sdk.webhook import WebhookClient

from ci.core.text import fit

HEADER_MAX, SECTION_MAX, FIELD_MAX, FIELDS_MAX, BLOCKS_MAX = 150, 3000, 2000, 10, 50
BUTTON_TEXT_MAX, BUTTONS_MAX, URL_MAX = 75, 25, 3000
FALLBACK_MAX = 3000
"""The message's `text`: what notifications and screen readers show."""


class SlackError(Exception):
    """Slack did not take the message (its status and answer, or why it could not be reached)."""


@dataclass(frozen=True)
class Message:
    """What a message says: a header, short labelled facts, a longer text, links (label -> URL), a context line."""

    header: str
    facts: Mapping[str, str]
    text: str = ""
    links: Mapping[str, str] | None = None
    context: str = ""


def payload(message: Message) -> dict:
    """The webhook's JSON body: `text` (the fallback) and the Block Kit blocks, each validated by slack_sdk."""
    blocks = [HeaderBlock(text=PlainTextObject(text=fit(message.header, HEADER_MAX), emoji=True))]
    fields = [MarkdownTextObject(text=fit(f"*{label}*\n{value}", FIELD_MAX))
              for label, value in list(message.facts.items())[:FIELDS_MAX]]
    if fields:
        blocks.append(SectionBlock(fields=fields))
    if message.text:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(message.text, SECTION_MAX))))
    buttons = [ButtonElement(text=fit(label, BUTTON_TEXT_MAX), url=url)
               for label, url in list((message.links or {}).items())[:BUTTONS_MAX] if 0 < len(url) <= URL_MAX]
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    if message.context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit(message.context, SECTION_MAX))]))
    fallback = " · ".join([message.header, *(f"{k}: {v}" for k, v in message.facts.items())])
    return {"text": fit(fallback, FALLBACK_MAX), "blocks": [block.to_dict() for block in blocks[:BLOCKS_MAX]]}


def post(webhook_url: str, body: dict, timeout_s: float) -> None:
    """Post once (no retries: a notification must not hold a deploy), raising SlackError unless Slack says ok."""
    client = WebhookClient(webhook_url, timeout=timeout_s, retry_handlers=[])
    try:
        answer = client.send_dict(body)
    except Exception as exc:  # noqa: BLE001 - anything the network does is one reason, the URL left out
        raise SlackError(f"the webhook could not be reached ({type(exc).__name__}: "
                         f"{_without(str(exc), webhook_url)})") from None
    if answer.status_code != 200:
        raise SlackError(f"the webhook answered {answer.status_code} ({fit(' '.join(answer.body.split()), 200)})")


def _without(text: str, secret: str) -> str:
    """One short line of `text`, the secret replaced."""
    return " ".join((text.replace(secret, "***") if secret else text).split())[:300]

