"""The sentinel on watch: audits the duty officer each round it holds the `sentinel` lease."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerError
from ironclaw.contracts.kit.lease import LeaseHolder
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.sentinel.domain.alerts import Alert, AlertBook
from ironclaw.sentinel.domain.audit import Audit, AuditPolicy, DutyHeartbeat, audit_duty
from ironclaw.sentinel.domain.failover import NO_STANDBY, FailoverWatch

SCOPE = "garrison"
SENTINEL_STREAM = ev.patrol_stream("sentinel")
FAILOVER = "duty_failover"
LEDGER_UNREACHABLE = "ledger_unreachable"

log = get_logger()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Lease(Protocol):
    """The sentinel's own lease: one active sentinel at a time."""

    @property
    def fence(self) -> int | None: ...

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class DutyLease(Protocol):
    """The duty officer's lease, as a watcher sees it: who holds it, and revoking them."""

    def holder(self) -> LeaseHolder | None: ...

    def revoke(self, expected_holder: str, *, fence: int | None = None) -> bool: ...


class Heartbeats(Protocol):
    """The duty officer's latest heartbeats, oldest first."""

    def recent(self) -> list[DutyHeartbeat]: ...

    def forget(self) -> None: ...


class Alerter(Protocol):
    """Where alerts go besides the log and the ledger (a webhook)."""

    def send(self, alert: Alert, *, holder: str, at: datetime) -> None: ...


@dataclass(frozen=True)
class SentinelPolicy:
    """The sentinel's yardsticks (see `ironclaw.sentinel.config.Settings`)."""

    stale_after_s: float
    takeover_within_s: float
    growth_cycles: int
    remind_after_s: float
    failover: bool = True

    @property
    def audit(self) -> AuditPolicy:
        return AuditPolicy(stale_after_s=self.stale_after_s, growth_cycles=self.growth_cycles)


class Sentinel:
    """Audits the duty officer's heartbeat and backlog, alerts on change, fails it over."""

    def __init__(
        self,
        *,
        ledger: LedgerClient,
        heartbeats: Heartbeats,
        lease: Lease,
        duty_lease: DutyLease,
        policy: SentinelPolicy,
        holder: str,
        alerter: Alerter | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger = ledger
        self.heartbeats = heartbeats
        self.lease = lease
        self.duty_lease = duty_lease
        self.policy = policy
        self.holder = holder
        self.alerter = alerter
        self.clock = clock
        self.alerts = AlertBook(remind_after_s=policy.remind_after_s)
        self.failover = FailoverWatch(
            stale_after_s=policy.stale_after_s, takeover_within_s=policy.takeover_within_s
        )
        self._watching_since: datetime | None = None
        self._blind_since: datetime | None = None

    def round(self, number: int) -> None:
        """One round of the patrol loop (`kit.runner.run_patrol`'s `round`)."""
        self.watch(number)

    def stand_down(self) -> None:
        """Give the lease up, so a standby sentinel takes over at its next round."""
        try:
            self.lease.release()
        except Exception:
            log.exception("sentinel.lease.release_failed", holder=self.holder)

    def watch(self, number: int) -> ev.PatrolCompleted | None:
        """One round: the cycle's heartbeat, or None when it did not run or could not record.

        A round that fails is logged and the next one tries again.
        """
        try:
            if not self.lease.acquire():
                log.info("sentinel.patrol.standby", round=number, holder=self.holder)
                # Another sentinel watches: what this one saw grows old; start afresh later.
                self.heartbeats.forget()
                self._watching_since = None
                return None
            return self.cycle()
        except Exception:
            log.exception("sentinel.patrol.failed", round=number, holder=self.holder)
            return None

    def cycle(self) -> ev.PatrolCompleted | None:
        """Audit, fail over if called for, alert on what changed, record the cycle."""
        started, now = time.monotonic(), self.clock()
        self._watching_since = self._watching_since or now
        try:
            beats = self.heartbeats.recent()
        except (LedgerError, httpx.TransportError) as error:
            self._blind(now, error)
            return None
        self._blind_since = None
        audit = audit_duty(beats, now, self.policy.audit, watching_since=self._watching_since)
        findings = audit.findings()
        did = self._fail_over(audit, findings, now)
        for alert in self.alerts.update(findings, now):
            self._raise(alert, now)
            did.append(f"{'reminded' if alert.reminder else alert.status}:{alert.kind}")
        completed = ev.PatrolCompleted(
            scope=SCOPE,
            patrol="sentinel",
            holder=self.holder,
            saw={
                "duty_heartbeat_age_s": int(audit.age_s),
                "duty_backlog": audit.backlogs[-1] if audit.backlogs else 0,
                "alerts_firing": len(self.alerts.firing),
            },
            did=did,
            duration_ms=int((time.monotonic() - started) * 1000),
            fence=self.lease.fence,
        )
        self.ledger.append(SENTINEL_STREAM, [completed], expected_version=None)
        log.info("sentinel.patrol.completed", saw=completed.saw, did=completed.did)
        return completed

    def _fail_over(self, audit: Audit, findings: dict[str, str], now: datetime) -> list[str]:
        """Revoke a stale duty officer's lease; add `no_standby_duty_officer` when due."""
        if not self.policy.failover:
            return []
        held = self.duty_lease.holder() if audit.stale else None
        step = self.failover.step(audit, held, now)
        did = []
        if step.resumed_by is not None:
            back = step.resumed_by
            log.info("sentinel.duty.resumed", duty_holder=back.holder, fence=back.fence)
            did.append(f"duty_resumed:{back.holder}:{back.fence}")
        revocation = step.revoke
        if revocation and self.duty_lease.revoke(revocation.holder, fence=revocation.fence):
            self.failover.revoked(now)
            did.append(f"revoked_duty_lease:{revocation.holder}:{revocation.fence}")
            self._record(
                ev.DutyFailover(
                    stale_holder=revocation.holder,
                    stale_for_s=revocation.stale_for_s,
                    fence=revocation.fence,
                    holder=self.holder,
                )
            )
            detail = (
                f"revoked the duty lease of {revocation.holder} (fence {revocation.fence}),"
                f" silent for {revocation.stale_for_s:.0f} s: a standby takes over"
            )
            self._notify(Alert(FAILOVER, detail), now)
        if step.no_standby:
            findings[NO_STANDBY] = step.no_standby
        return did

    def _blind(self, now: datetime, error: Exception) -> None:
        """The ledger is out of reach: nothing can be judged; alert if it stays away."""
        log.warning("sentinel.patrol.idle", reason="ledger unavailable", error=str(error))
        self._blind_since = self._blind_since or now
        blind_s = (now - self._blind_since).total_seconds()
        findings = {}
        if blind_s > self.policy.stale_after_s:
            findings[LEDGER_UNREACHABLE] = f"the ledger has not answered for {blind_s:.0f} s"
        for alert in self.alerts.update(findings, now, unknown=self.alerts.firing):
            self._notify(alert, now)  # nowhere to record it

    def _raise(self, alert: Alert, now: datetime) -> None:
        """Log, record and send an alert from the book."""
        if alert.status == "firing":
            self._record(
                ev.SentinelAlerted(
                    scope=SCOPE, condition=alert.kind, detail=alert.detail, holder=self.holder
                )
            )
        self._notify(alert, now)

    def _notify(self, alert: Alert, now: datetime) -> None:
        """The alert's log line, and its webhook when one is set (never fatal)."""
        fields = {"kind": alert.kind, "detail": alert.detail, "holder": self.holder}
        if alert.status == "resolved":
            log.info("sentinel.alert.resolved", **fields)
        else:
            log.warning("sentinel.alert", reminder=alert.reminder, **fields)
        if self.alerter is not None:
            self.alerter.send(alert, holder=self.holder, at=now)

    def _record(self, event: ev.EventPayload) -> None:
        """Append an alert's event; one that cannot be recorded is logged, and the alert goes on."""
        try:
            self.ledger.append(SENTINEL_STREAM, [event], expected_version=None)
        except (LedgerError, httpx.TransportError) as error:
            log.warning("sentinel.alert.unrecorded", event_type=event.event_type, error=str(error))
