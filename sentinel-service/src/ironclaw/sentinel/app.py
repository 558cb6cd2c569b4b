"""The sentinel process: its health HTTP app and the sentinel its patrol loop runs."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.health import health_app
from ironclaw.contracts.kit.lease import DUTY_LEASE, SENTINEL_LEASE, holder_name, leases_for
from ironclaw.sentinel.adapters.heartbeats import LedgerHeartbeats
from ironclaw.sentinel.adapters.webhook import WebhookAlerter
from ironclaw.sentinel.config import Settings
from ironclaw.sentinel.domain.sentinel import Sentinel, SentinelPolicy


def create_app(settings: Settings | None = None) -> FastAPI:
    """`/health` and `/ready` for the patrol process."""
    settings = settings or Settings()
    return health_app("IronClaw sentinel", settings.service_name)


def sentinel_policy(settings: Settings) -> SentinelPolicy:
    """The sentinel's yardsticks from the settings."""
    return SentinelPolicy(
        stale_after_s=settings.stale_after_s,
        takeover_within_s=settings.takeover_within_s,
        growth_cycles=settings.backlog_growth_cycles,
        remind_after_s=settings.alert_reminder_s,
        failover=settings.duty_failover,
    )


def create_sentinel(settings: Settings, *, holder: str | None = None) -> Sentinel:
    """The sentinel: ledger, leases and webhook from the settings; refuses without a broker.

    The duty officer keeps its lease where the broker is (Redis, or a file lock under
    IRONCLAW_HOME beside a folder broker), so the sentinel looks for it there.
    """
    if not settings.broker_url:
        raise ValueError(
            "IRONCLAW_BROKER_URL is not set: the sentinel finds the duty officer's lease where "
            "the broker is, e.g. redis://localhost:6379/0"
        )
    holder = holder or holder_name()
    leases = leases_for(
        settings.broker_url, settings.home, holder=holder, ttl_s=settings.lease_ttl_s
    )
    # A round waits for the ledger only briefly: the next round retries anyway.
    ledger = LedgerClient(
        settings.ledger_url, token=settings.internal_token, timeout_s=10.0, retry_for_s=5.0
    )
    webhook = settings.alert_webhook_url.get_secret_value() if settings.alert_webhook_url else ""
    return Sentinel(
        ledger=ledger,
        heartbeats=LedgerHeartbeats(ledger, keep=settings.backlog_growth_cycles + 1),
        lease=leases.lease(SENTINEL_LEASE),
        duty_lease=leases.lease(DUTY_LEASE),
        policy=sentinel_policy(settings),
        holder=holder,
        alerter=WebhookAlerter(webhook, timeout_s=settings.alert_webhook_timeout_s)
        if webhook
        else None,
    )
