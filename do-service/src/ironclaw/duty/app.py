"""The duty officer process: its health HTTP app and the officer its patrol loop runs."""

from __future__ import annotations

from fastapi import FastAPI

from ironclaw.contracts.clients.fenced import FencedLedgerClient
from ironclaw.contracts.kit.health import health_app
from ironclaw.contracts.kit.lease import DUTY_LEASE, holder_name, leases_for
from ironclaw.duty.adapters.broker import CeleryEnqueuer
from ironclaw.duty.config import Settings
from ironclaw.duty.domain.budgets import Budget, Budgets
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
        message_resend_after_s=settings.message_resend_after_s,
        reply_retries=settings.reply_retries,
        limit=settings.patrol_limit,
        profile_disable_after=settings.profile_disable_after,
        budgets=budgets(settings),
    )


def budgets(settings: Settings) -> Budgets:
    """The garrison's daily budget and each theater's own, from the settings."""
    return Budgets(
        garrison=Budget(settings.budget_tokens_per_day, settings.budget_cost_per_day_usd),
        theaters={
            name: Budget(budget.tokens_per_day, budget.cost_per_day_usd)
            for name, budget in settings.theater_budgets.items()
        },
    )


def create_officer(settings: Settings, *, holder: str | None = None) -> DutyOfficer:
    """The duty officer: ledger, broker and lease from the settings; refuses without a broker.

    `holder` names it in the lease and its heartbeats (default `hostname:pid`).
    """
    if not settings.broker_url:
        raise ValueError(
            "IRONCLAW_BROKER_URL is not set: the duty officer re-enqueues Orders through it, "
            "e.g. redis://localhost:6379/0"
        )
    holder = holder or holder_name()
    leases = leases_for(
        settings.broker_url, settings.home, holder=holder, ttl_s=settings.duty_lease_ttl_s
    )
    lease = leases.lease(DUTY_LEASE)
    # A round waits for the ledger only briefly: the next round retries anyway, and a long wait
    # would keep SIGTERM from ending the loop. Its heartbeats carry the lease's fence.
    ledger = FencedLedgerClient(
        settings.ledger_url,
        fence_of=lambda heartbeat: lease.fence,
        token=settings.internal_token,
        timeout_s=10.0,
        retry_for_s=5.0,
    )
    patrol = DutyPatrol(
        ledger, CeleryEnqueuer(settings.broker_url), patrol_policy(settings), holder=holder
    )
    return DutyOfficer(patrol, lease, holder=holder)
