"""The duty officer process: its health HTTP app and the officer its patrol loop runs."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.health import health_app
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.adapters.lease import holder_name, lease_for
from ironclaw.duty.config import Settings
from ironclaw.duty.domain.officer import DutyOfficer
from ironclaw.duty.domain.patrol import DutyPatrol, PatrolPolicy


def create_app(settings: Settings | None = None) -> FastAPI:
    """`/health` and `/ready` for the patrol process."""
    settings = settings or Settings()
    return health_app("IronClaw duty officer", settings.service_name)


def patrol_policy(settings: Settings) -> PatrolPolicy:
    """The patrol's timings from the settings."""
    return PatrolPolicy(
        lease_grace_s=settings.expired_lease_grace_s,
        backoff_base_s=settings.backoff_base_s,
        integration_resend_after_s=settings.integration_resend_after_s,
        limit=settings.patrol_limit,
    )


def create_officer(settings: Settings) -> DutyOfficer:
    """The duty officer: ledger, broker and lease from the settings; refuses without a broker."""
    if not settings.broker_url:
        raise ValueError(
            "IRONCLAW_BROKER_URL is not set: the duty officer re-enqueues Orders through it, "
            "e.g. redis://localhost:6379/0"
        )
    holder = holder_name()
    # A round waits for the ledger only briefly: the next round retries anyway, and a long wait
    # would keep SIGTERM from ending the loop.
    ledger = LedgerClient(
        settings.ledger_url, token=settings.internal_token, timeout_s=10.0, retry_for_s=5.0
    )
    patrol = DutyPatrol(
        ledger, CeleryEnqueuer(settings.broker_url), patrol_policy(settings), holder=holder
    )
    lease = lease_for(settings.broker_url, settings.home, ttl_s=settings.duty_lease_ttl_s)
    return DutyOfficer(patrol, lease, holder=holder)
