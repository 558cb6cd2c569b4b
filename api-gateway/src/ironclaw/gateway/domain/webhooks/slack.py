"""Reading Slack deliveries: Events API (`app_mention`, DMs) and the `/ironclaw` command."""

from __future__ import annotations

import re
from typing import Any

from ironclaw.contracts.models import SourceKind
from ironclaw.gateway.domain.webhooks.deliveries import (
    Challenge,
    Ignored,
    MalformedDelivery,
    Reading,
    Trigger,
    obj,
    optional_text,
    text,
)

_USER_MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def read_slack_event(payload: Any) -> Reading:
    """What a signed Events API body asks for."""
    body = obj(payload, "the body")
    kind = body.get("type")
    if kind == "url_verification":
        return Challenge(text(body.get("challenge"), "challenge"))
    if kind != "event_callback":
        return Ignored(f"type {kind!r} starts nothing")
    event_id = text(body.get("event_id"), "event_id")
    event = obj(body.get("event"), "event")
    event_type = optional_text(event.get("type"))
    if event.get("bot_id") or event.get("subtype"):
        return Ignored("a bot's or edited message")
    if event_type == "message" and event.get("channel_type") != "im":
        return Ignored("a channel message without a mention")
    if event_type not in {"app_mention", "message"}:
        return Ignored(f"event {event_type!r} starts nothing")
    channel = text(event.get("channel"), "event.channel")
    ts = text(event.get("ts"), "event.ts")
    command = _USER_MENTION.sub("", optional_text(event.get("text")) or "").strip()
    if not command:
        return Ignored("an empty message")
    reference = {"channel": channel, "thread_ts": optional_text(event.get("thread_ts")) or ts}
    return Trigger(
        SourceKind.SLACK, event_id, channel, command, reference, optional_text(event.get("user"))
    )


def read_slack_command(form: dict[str, str]) -> Reading:
    """What a signed slash-command form asks for; the reply goes to the channel."""
    if "command" not in form:
        raise MalformedDelivery("a slash command form carries `command`")
    command = form.get("text", "").strip()
    if not command:
        return Ignored("an empty command")
    channel = form.get("channel_id", "")
    trigger_id = form.get("trigger_id", "")
    if not channel or not trigger_id:
        raise MalformedDelivery("a slash command form carries `channel_id` and `trigger_id`")
    reference = {"channel": channel, "command": form["command"]}
    return Trigger(
        SourceKind.SLACK, trigger_id, channel, command, reference, form.get("user_id") or None
    )
