"""The observer process: its health HTTP app, and the watch that patrols theaters under leases."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.fenced import FencedLedgerClient
from ironclaw.contracts.clients.ledger import LedgerError
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.health import health_app
from ironclaw.contracts.kit.lease import FileLeases, Lease, RedisLeases, leases_for, observer_lease
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.config import Settings
from ironclaw.observer.domain.patrol import Observer, default_holder

log = get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """`/health` and `/ready` for the patrol process."""
    settings = settings or Settings()
    return health_app("IronClaw observer", settings.service_name)


class TheaterLeases:
    """The `observer-<theater>` leases of one observer process, taken as theaters appear."""

    def __init__(self, store: RedisLeases | FileLeases) -> None:
        self._store = store
        self._leases: dict[str, Lease] = {}

    def of(self, theater: str) -> Lease:
        if theater not in self._leases:
            self._leases[theater] = self._store.lease(observer_lease(theater))
        return self._leases[theater]

    def fence_of(self, heartbeat: ev.PatrolCompleted) -> int | None:
        """The fence a theater's heartbeat was made under (its scope is the theater)."""
        lease = self._leases.get(heartbeat.scope)
        return lease.fence if lease else None

    def release_all(self) -> None:
        for theater, lease in self._leases.items():
            try:
                lease.release()
            except Exception:
                log.exception("observer.lease.release_failed", theater=theater)
        self._store.close()


class TheaterWatch:
    """Each round, patrols every theater whose lease this observer holds; stands by for others.

    Several observers may run: each theater is patrolled by one of them at a time.
    """

    def __init__(self, observer: Observer, leases: TheaterLeases) -> None:
        self.observer = observer
        self.leases = leases

    def round(self, number: int) -> None:
        """One round of the patrol loop (`kit.runner.run_patrol`'s `round`)."""
        self.watch(number)

    def watch(self, number: int) -> list[ev.PatrolCompleted]:
        """One round over the ledger's theaters; a theater that fails does not stop it."""
        try:
            theaters = self.observer.ledger.list_theaters()
        except (LedgerError, httpx.TransportError) as error:
            log.warning("observer.patrol.idle", reason="ledger unavailable", error=str(error))
            return []
        if not theaters:
            log.info("observer.patrol.idle", reason="no theaters")
        done = []
        for theater in theaters:
            try:
                if not self.leases.of(theater.name).acquire():
                    log.info("observer.patrol.standby", round=number, theater=theater.name)
                    continue
                done.append(self.observer.patrol_theater(theater))
            except Exception:  # one broken theater must not blind the patrol to the others
                log.exception("observer.patrol.failed", round=number, theater=theater.name)
        return done

    def stand_down(self) -> None:
        """Give every lease up, so standbys take the theaters over at their next round."""
        self.leases.release_all()
        self.observer.ledger.close()


def create_watch(
    settings: Settings, vault: VaultClient, *, holder: str | None = None
) -> TheaterWatch:
    """The observer on watch: leases where the broker is (Redis), else file locks in the home.

    Its ledger client stamps each theater's heartbeat with the fence of that theater's lease.
    """
    holder = holder or default_holder()
    store = leases_for(
        settings.broker_url, settings.home, holder=holder, ttl_s=settings.lease_ttl_s
    )
    leases = TheaterLeases(store)
    # Short retries: a SIGTERM waits for the round, and the next round tries again anyway.
    ledger = FencedLedgerClient(
        settings.ledger_url,
        fence_of=leases.fence_of,
        token=settings.internal_token,
        retry_for_s=settings.client_retry_s,
    )
    observer = Observer(
        ledger=ledger,
        vault=vault,
        home=settings.home,
        holder=holder,
        loops=settings.loop_rules(),
    )
    return TheaterWatch(observer, leases)
