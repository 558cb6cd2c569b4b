"""Turning a matched Trigger into its Run: one id per delivery, its stages on the run stream."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from ironclaw.contracts.events import (
    EventMetadata,
    NewEvent,
    RunReceived,
    WebhookStage,
    WebhookStageName,
)
from ironclaw.contracts.models import RunSource
from ironclaw.gateway.domain.webhooks.deliveries import Trigger

_CROCKFORD: Final = "0123456789abcdefghjkmnpqrstvwxyz"


def webhook_run_id(provider: str, delivery_id: str) -> str:
    """The Run a delivery starts: the same delivery always names the same Run.

    A replayed or retried delivery then appends to a stream that already exists and is refused
    by the ledger (expected version 0), wherever the first copy was handled.
    """
    digest = int.from_bytes(hashlib.sha256(f"{provider}\0{delivery_id}".encode()).digest(), "big")
    chars = []
    for _ in range(26):
        digest, digit = divmod(digest, 32)
        chars.append(_CROCKFORD[digit])
    return "run_" + "".join(chars)


@dataclass
class StageLog:
    """The stages a delivery went through before its Run existed, with when each happened."""

    stages: list[tuple[WebhookStageName, datetime, str]] = field(default_factory=list)

    def mark(self, stage: WebhookStageName, detail: str = "") -> None:
        self.stages.append((stage, datetime.now(UTC), detail))


def run_events(
    trigger: Trigger, run_id: str, theater: str, log: StageLog, *, request_id: str | None
) -> list[NewEvent]:
    """`RunReceived` and the delivery's stages, appended together before anyone plans the Run."""
    source = RunSource(kind=trigger.provider, reference=trigger.reference, author=trigger.author)
    received = RunReceived(
        run_id=run_id,
        theater=theater,
        message=trigger.message[:20_000],
        source=source,
        conversation_id=f"{trigger.provider.value}:{trigger.place}",
        playbook=trigger.playbook,
    )
    metadata = EventMetadata(correlation_id=run_id, causation_id=request_id, actor="gateway")
    stages = [
        WebhookStage(
            run_id=run_id,
            provider=trigger.provider.value,
            stage=stage,
            delivery_id=trigger.delivery_id,
            at=at,
            detail=detail,
        )
        for stage, at, detail in log.stages
    ]
    return [NewEvent.of(payload, metadata=metadata) for payload in (received, *stages)]
