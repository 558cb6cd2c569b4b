"""The gateway's Celery task: `gateway.deliver_reply`, payload in, domain call, done."""

from __future__ import annotations

import httpx
from celery import Celery
from pydantic import ValidationError

from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.gateway.adapters.connectors import connector_for
from ironclaw.gateway.config import Settings
from ironclaw.gateway.domain.replies import deliver_reply


def register_tasks(celery: Celery, settings: Settings) -> None:
    """Register the gateway's tasks on `celery`, reading the ledger at `settings.ledger_url`."""

    def deliver_reply_task(payload: dict[str, object]) -> str:
        """Deliver the reply of a settled run (a repeated delivery is harmless)."""
        try:
            request = tasks.DeliverReply.model_validate(payload)
        except ValidationError as error:
            get_logger().error("gateway.reply.invalid_payload", error=str(error))
            return "invalid_payload"
        with LedgerClient(
            settings.ledger_url,
            token=settings.internal_token,
            timeout_s=settings.dependency_timeout_s,
        ) as ledger:
            return deliver_reply(
                ledger,
                request,
                lambda kind: connector_for(kind, settings),
                public_url=settings.public_url,
                mention=settings.webhook_mention,
            ).value

    # shared=False: a shared task would be added to every Celery app created later in this
    # process, bound to this app's settings.
    celery.task(
        name=tasks.DELIVER_REPLY,
        shared=False,
        autoretry_for=(httpx.TransportError,),
        retry_backoff=True,
        max_retries=8,
    )(deliver_reply_task)
