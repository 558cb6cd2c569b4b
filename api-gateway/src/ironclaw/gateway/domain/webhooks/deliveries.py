"""What a verified delivery asks for: a Run to start, nothing, or (Slack) a challenge."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ironclaw.contracts.models import SourceKind


class MalformedDelivery(ValueError):
    """A signed body that is not what the provider sends: answered `400`."""


@dataclass(frozen=True)
class Trigger:
    """A delivery that asks for a Run; `reference` says where its replies go."""

    provider: SourceKind
    delivery_id: str
    place: str
    message: str
    reference: dict[str, str] = field(default_factory=dict)
    author: str | None = None
    playbook: str | None = None

    @property
    def place_key(self) -> str:
        """The key of `IRONCLAW_WEBHOOK_THEATERS` naming this source's theater."""
        return f"{self.provider.value}:{self.place}"

    @property
    def fallback_key(self) -> str:
        """The key naming the theater of this provider's sources that have none of their own."""
        return f"{self.provider.value}:*"


@dataclass(frozen=True)
class Ignored:
    """A delivery that asks for nothing (another event type, no mention, a bot's own text)."""

    reason: str


@dataclass(frozen=True)
class Challenge:
    """Slack's `url_verification`: answered with its challenge."""

    challenge: str


Reading = Trigger | Ignored | Challenge


def command_after(text: str, mention: str) -> str | None:
    """The text after `mention` (case-insensitive, as a word), or None when it is not there."""
    match = re.search(rf"(?<![\w@]){re.escape(mention)}(?![\w-])", text, flags=re.IGNORECASE)
    if match is None:
        return None
    after = text[match.end() :].strip()
    return after or text.replace(match.group(0), "").strip() or None


def obj(value: Any, name: str) -> dict[str, Any]:
    """`value` as a JSON object, else `MalformedDelivery` naming what was expected."""
    if not isinstance(value, dict):
        raise MalformedDelivery(f"{name} must be a JSON object")
    return value


def text(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedDelivery(f"{name} must be a string")
    return str(value)


def optional_text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
