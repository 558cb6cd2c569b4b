"""Final replies: where a settled Run's answer goes back to."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum

from ironclaw.contracts.api import RunView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound
from ironclaw.contracts.events import NewEvent, ReplyDelivered, ReplyFailed, run_stream
from ironclaw.contracts.ids import derived_event_id
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import RUN_SETTLED, SourceKind
from ironclaw.contracts.tasks import DeliverReply
from ironclaw.gateway.adapters.connectors import MISSING_SETTINGS, Connector, ConnectorError

PULLED_BY_CALLER = frozenset({SourceKind.CHAT, SourceKind.API, SourceKind.SENTRY})
"""Sources that are not sent a reply: callers read `GET /runs/{id}`; a Sentry alert has no
thread to answer in."""
SUMMARY_LIMIT = 3_000

ConnectorFor = Callable[[SourceKind], Connector | None]


class ReplyOutcome(StrEnum):
    SKIPPED = "skipped"
    DELIVERED = "delivered"
    ALREADY_DELIVERED = "already_delivered"
    FAILED = "failed"
    NO_CONNECTOR = "no_connector"
    UNKNOWN_RUN = "unknown_run"
    NOT_SETTLED = "not_settled"


def deliver_reply(
    ledger: LedgerClient,
    request: DeliverReply,
    connector_for: ConnectorFor,
    *,
    public_url: str | None = None,
    mention: str = "@ironclaw",
) -> ReplyOutcome:
    """Deliver a settled run's reply to where it came from; safe to repeat.

    Chat and API callers poll or stream the run, so there is nothing to send. A webhook Run's
    reply goes through its provider's connector; the outcome is recorded on the run stream as
    `ReplyDelivered` or `ReplyFailed` (which the duty officer may retry), never only logged.
    """
    with bound_context(run_id=request.run_id):
        log = get_logger()
        try:
            run = ledger.get_run(request.run_id)
        except LedgerNotFound:
            log.warning("gateway.reply.unknown_run", event_id=request.event_id)
            return ReplyOutcome.UNKNOWN_RUN
        if run.status not in RUN_SETTLED:
            log.warning("gateway.reply.not_settled", status=run.status.value)
            return ReplyOutcome.NOT_SETTLED
        kind = run.source.kind
        if kind in PULLED_BY_CALLER:
            log.info("gateway.reply.skipped", source=kind.value, status=run.status.value)
            return ReplyOutcome.SKIPPED
        stream = ledger.read_stream(run_stream(run.run_id))
        if any(event.type == ReplyDelivered.event_type for event in stream.events):
            log.info("gateway.reply.already_delivered")
            return ReplyOutcome.ALREADY_DELIVERED
        connector = connector_for(kind)
        if connector is None:
            reason = f"no {kind.value} connector: set {MISSING_SETTINGS.get(kind, 'its token')}"
            _record_failure(ledger, request, kind.value, reason, attempts=1)
            log.warning("gateway.reply.no_connector", source=kind.value, status=run.status.value)
            return ReplyOutcome.NO_CONNECTOR
        try:
            posted = connector.reply(run.source.reference, reply_text(run, public_url, mention))
        except ConnectorError as error:
            _record_failure(ledger, request, kind.value, str(error), attempts=error.attempts)
            log.warning("gateway.reply.failed", source=kind.value, reason=str(error))
            return ReplyOutcome.FAILED
        finally:
            connector.close()
        delivered = ReplyDelivered(run_id=run.run_id, channel=kind.value, reference=posted)
        event_id = derived_event_id("gateway", "reply-delivered", request.event_id)
        ledger.append(
            run_stream(run.run_id), [_with_id(delivered, event_id)], expected_version=None
        )
        log.info("gateway.reply.delivered", source=kind.value, status=run.status.value)
        return ReplyOutcome.DELIVERED


def reply_text(run: RunView, public_url: str | None, mention: str) -> str:
    """The outcome, a summary and a link to the run, without our mention (no reply loops)."""
    summary = (run.response or run.reason or "").strip() or "(no summary)"
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[:SUMMARY_LIMIT] + " …"
    link = f"{(public_url or '').rstrip('/')}/runs/{run.run_id}"
    text = f"IronClaw run {run.run_id} {run.status.value}.\n\n{summary}\n\nRun: {link}"
    return re.sub(re.escape(mention), mention.lstrip("@"), text, flags=re.IGNORECASE)


def _record_failure(
    ledger: LedgerClient, request: DeliverReply, channel: str, reason: str, *, attempts: int
) -> None:
    failed = ReplyFailed(run_id=request.run_id, channel=channel, reason=reason, attempts=attempts)
    event_id = derived_event_id("gateway", "reply-failed", request.event_id)
    ledger.append(run_stream(request.run_id), [_with_id(failed, event_id)], expected_version=None)


def _with_id(payload: ReplyDelivered | ReplyFailed, event_id: str) -> NewEvent:
    """The event under an id derived from the task's cause: a repeated task stores it once."""
    return NewEvent.of(payload).model_copy(update={"id": event_id})
