"""Best-effort messages sent while a delivery is answered: the acknowledgement, a polite no."""

from __future__ import annotations

from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.gateway.adapters.connectors import ConnectorError, connector_for
from ironclaw.gateway.config import Settings
from ironclaw.gateway.domain.webhooks.deliveries import Trigger


def acknowledge(settings: Settings, trigger: Trigger, run_id: str) -> None:
    """React or say "on it" where the request was made; a failure is logged, the Run goes on."""
    _send(settings, trigger, run_id, None)


def tell(settings: Settings, trigger: Trigger, text: str) -> None:
    """Reply `text` where the request was made (an unmapped source: no Run to reply later)."""
    _send(settings, trigger, None, text)


def _send(settings: Settings, trigger: Trigger, run_id: str | None, text: str | None) -> None:
    with bound_context(**({"run_id": run_id} if run_id else {})):
        log = get_logger().bind(provider=trigger.provider.value)
        connector = connector_for(trigger.provider, settings)
        if connector is None:
            log.info("gateway.webhook.notice_unsent", reason="no connector for this provider")
            return
        try:
            if text is None:
                connector.acknowledge(trigger.reference)
            else:
                connector.reply(trigger.reference, text)
        except ConnectorError as error:
            log.warning("gateway.webhook.notice_failed", reason=str(error), attempts=error.attempts)
        else:
            log.info("gateway.webhook.notice_sent", kind="ack" if text is None else "note")
        finally:
            connector.close()
