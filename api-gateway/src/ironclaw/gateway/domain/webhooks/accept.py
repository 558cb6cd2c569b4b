"""Starting the Run a matched delivery asks for, once per delivery."""

from __future__ import annotations

from dataclasses import dataclass

from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict, LedgerNotFound
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.events import run_stream
from ironclaw.contracts.kit.errors import NotFound
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.gateway.domain.runs import ensure_theater
from ironclaw.gateway.domain.webhooks.deliveries import Trigger
from ironclaw.gateway.domain.webhooks.intake import StageLog, run_events, webhook_run_id


@dataclass(frozen=True)
class Accepted:
    """A new Run started for the delivery."""

    run_id: str


@dataclass(frozen=True)
class Duplicate:
    """The delivery was seen before: its Run exists already."""

    run_id: str


@dataclass(frozen=True)
class Unmapped:
    """The source maps to no (registered) theater: answered politely, no Run."""

    note: str


Acceptance = Accepted | Duplicate | Unmapped


def accept_trigger(
    ledger: LedgerClient,
    vault: VaultClient,
    theaters: dict[str, str],
    trigger: Trigger,
    log: StageLog,
    *,
    request_id: str | None,
) -> Acceptance:
    """Start the delivery's Run in its source's theater, unless the delivery was seen before."""
    run_id = webhook_run_id(trigger.provider.value, trigger.delivery_id)
    with bound_context(run_id=run_id):
        logger = get_logger().bind(provider=trigger.provider.value)
        theater = theaters.get(trigger.place_key) or theaters.get(trigger.fallback_key)
        if theater is None:
            logger.info("gateway.webhook.unmapped", place=trigger.place_key)
            return Unmapped(
                f"IronClaw is not set up for {trigger.place_key}: ask an operator to map it to "
                "a theater (IRONCLAW_WEBHOOK_THEATERS)."
            )
        try:
            ledger.get_run(run_id)
        except LedgerNotFound:
            pass
        else:
            logger.info("gateway.webhook.duplicate", delivery_id=trigger.delivery_id)
            return Duplicate(run_id)
        try:
            ensure_theater(ledger, vault, theater)
        except NotFound:
            logger.warning("gateway.webhook.unknown_theater", theater=theater)
            return Unmapped(
                f"IronClaw's theater {theater!r} for {trigger.place_key} is not set up."
            )
        log.mark("matched", f"{trigger.place_key} -> {theater}")
        log.mark("queued", "planning")
        events = run_events(trigger, run_id, theater, log, request_id=request_id)
        try:
            ledger.append(run_stream(run_id), events, expected_version=0)
        except LedgerConflict:
            logger.info("gateway.webhook.duplicate", delivery_id=trigger.delivery_id)
            return Duplicate(run_id)
        logger.info("gateway.webhook.run_created", theater=theater, place=trigger.place_key)
        return Accepted(run_id)
