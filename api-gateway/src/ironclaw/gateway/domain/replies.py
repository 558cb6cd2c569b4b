"""Final replies: where a settled Run's answer goes back to."""

from __future__ import annotations

from enum import StrEnum

from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import RUN_SETTLED, SourceKind
from ironclaw.contracts.tasks import DeliverReply

PULLED_BY_CALLER = frozenset({SourceKind.CHAT, SourceKind.API})
"""Sources whose caller reads `GET /runs/{id}` instead of being sent a reply."""


class ReplyOutcome(StrEnum):
    SKIPPED = "skipped"
    NO_CONNECTOR = "no_connector"
    UNKNOWN_RUN = "unknown_run"
    NOT_SETTLED = "not_settled"


def deliver_reply(ledger: LedgerClient, request: DeliverReply) -> ReplyOutcome:
    """Deliver a settled run's reply to where it came from; safe to repeat.

    Chat and API callers poll or stream the run, so there is nothing to send. Webhook sources
    (GitHub, Slack, Jira) get their connectors in a later milestone: until then the reply is
    logged as undeliverable rather than retried, so messages do not pile up.
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
        if run.source.kind in PULLED_BY_CALLER:
            log.info("gateway.reply.skipped", source=run.source.kind.value, status=run.status.value)
            return ReplyOutcome.SKIPPED
        log.warning(
            "gateway.reply.no_connector", source=run.source.kind.value, status=run.status.value
        )
        return ReplyOutcome.NO_CONNECTOR
