"""Keeping the openai engine's conversation bounded: long tool outputs clipped with a marker,
the oldest turns dropped (and said so) once the whole exceeds a size."""

from __future__ import annotations

import json
from typing import Any

HEAD_SHARE = 4  # a clipped text keeps 1/4 of its budget from the head, the rest from the tail
KEPT_PREFIX = 2  # the system prompt and the task are never dropped


def clip_text(text: str, limit: int) -> str:
    """`text`, or its head and tail around a `[... N characters truncated ...]` marker."""
    if len(text) <= limit:
        return text
    head = limit // HEAD_SHARE
    tail = limit - head
    dropped = len(text) - head - tail
    return f"{text[:head]}\n[... {dropped} characters truncated ...]\n{text[-tail:]}"


def message_size(message: dict[str, Any]) -> int:
    """Roughly what a message costs in the context: its text and tool calls, in characters."""
    size = len(message.get("content") or "")
    if message.get("tool_calls"):
        size += len(json.dumps(message["tool_calls"]))
    return size


def dropped_note(count: int) -> dict[str, Any]:
    return {
        "role": "user",
        "content": f"[{count} earlier messages were dropped to keep the context bounded; "
        "the worktree holds the work done so far: list and read files to see it]",
    }


def _turn_starts(messages: list[dict[str, Any]]) -> list[int]:
    """Where each turn (an assistant message and the tool answers after it) starts."""
    return [i for i, m in enumerate(messages) if i >= KEPT_PREFIX and m["role"] == "assistant"]


def bound_conversation(messages: list[dict[str, Any]], max_chars: int) -> int:
    """Drop the oldest whole turns until `messages` fit in `max_chars` (the last turn always
    stays); a note replaces what was dropped. Changes `messages`; returns how many went."""
    total = sum(message_size(m) for m in messages)
    if total <= max_chars:
        return 0
    prefix = messages[:KEPT_PREFIX]
    earlier = 0
    if len(messages) > KEPT_PREFIX and _is_dropped_note(messages[KEPT_PREFIX]):
        earlier = int(messages[KEPT_PREFIX]["content"][1:].split(" ", 1)[0])
        total -= message_size(messages[KEPT_PREFIX])
        del messages[KEPT_PREFIX]
    starts = _turn_starts(messages)
    cut = KEPT_PREFIX
    room = max_chars - message_size(dropped_note(earlier + len(messages)))
    for start in starts[1:]:
        if total <= room:
            break
        total -= sum(message_size(m) for m in messages[cut:start])
        cut = start
    dropped = cut - KEPT_PREFIX
    messages[:] = [*prefix, dropped_note(earlier + dropped), *messages[cut:]]
    return dropped


def _is_dropped_note(message: dict[str, Any]) -> bool:
    content = message.get("content") or ""
    return message["role"] == "user" and content.startswith("[") and "earlier messages" in content
