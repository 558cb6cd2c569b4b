"""Fixtures of the sentinel's tests: a real ledger and Redis, duty heartbeats, a webhook server.

The ledger is served on a loopback port by `fleet_fixtures` (tests/support); the duty officer's
heartbeats are the `PatrolCompleted` events it would append; the webhook is a real HTTP server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI, Request, Response
from openai_server import serve

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound
from ironclaw.contracts.kit.lease import DUTY_LEASE, RedisLease, RedisLeases
from ironclaw.sentinel.adapters.heartbeats import LedgerHeartbeats
from ironclaw.sentinel.adapters.webhook import WebhookAlerter
from ironclaw.sentinel.domain.sentinel import Sentinel, SentinelPolicy

STALE_AFTER_S = 75.0
TAKEOVER_WITHIN_S = 40.0
PayloadT = TypeVar("PayloadT", bound=ev.EventPayload)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The ledger's database: SQLite unless a test asks for PostgreSQL too (indirect param)."""
    backend = getattr(request, "param", "sqlite")
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


class Duty:
    """What duty officers leave on the ledger and in Redis: heartbeats and the duty lease."""

    def __init__(self, ledger: LedgerClient, redis_url: str) -> None:
        self.ledger = ledger
        self.redis_url = redis_url
        self._stores: list[RedisLeases] = []

    def lease(self, holder: str, *, ttl_s: float = 60) -> RedisLease:
        store = RedisLeases(self.redis_url, holder=holder, ttl_s=ttl_s)
        self._stores.append(store)
        return store.lease(DUTY_LEASE)

    def on_watch(self, holder: str) -> RedisLease:
        """`holder` takes the duty lease, as an officer does at the start of a round."""
        lease = self.lease(holder)
        assert lease.acquire()
        return lease

    def heartbeat(self, holder: str, *, fence: int | None = None, backlog: int = 0) -> None:
        """A duty cycle by `holder` that saw `backlog` Orders unclaimed past their timeout."""
        completed = ev.PatrolCompleted(
            scope="garrison",
            patrol="duty",
            holder=holder,
            saw={"unclaimed_overdue": backlog, "issued": backlog, "held_back": backlog},
            duration_ms=5,
            fence=fence,
        )
        self.ledger.append(ev.patrol_stream("duty"), [completed], expected_version=None)

    def sentinel_events(self, kind: type[PayloadT]) -> list[PayloadT]:
        """The events of type `kind` on the sentinel's patrol stream, in order."""
        try:
            events = self.ledger.read_stream("patrol-sentinel").events
        except LedgerNotFound:
            return []
        return [kind.model_validate(e.data) for e in events if e.type == kind.event_type]

    def close(self) -> None:
        for store in self._stores:
            store.close()


@pytest.fixture
def duty(ledger_client: LedgerClient, redis_db_url: str) -> Iterator[Duty]:
    officers = Duty(ledger_client, redis_db_url)
    yield officers
    officers.close()


class SetClock:
    """The sentinel's clock: the real time until the test moves it ahead."""

    def __init__(self) -> None:
        self.ahead_s = 0.0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.ahead_s)


@dataclass
class Webhook:
    """An operator's webhook: records each JSON body; answers `failures` 500s first."""

    url: str = ""
    failures: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    def kinds(self, status: str = "firing") -> list[str]:
        return [body["kind"] for body in self.received if body["status"] == status]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    app = FastAPI()

    @app.post("/hooks/ops")
    async def receive(request: Request) -> Response:
        if hook.refused < hook.failures:
            hook.refused += 1
            return Response(status_code=500)
        hook.received.append(await request.json())
        return Response(status_code=204)

    with serve(app) as url:
        hook.url = f"{url}/hooks/ops"
        yield hook


@pytest.fixture
def clock() -> SetClock:
    return SetClock()


MakeSentinel = Callable[..., Sentinel]


@pytest.fixture
def make_sentinel(
    ledger_client: LedgerClient, redis_db_url: str, webhook: Webhook, clock: SetClock
) -> Iterator[MakeSentinel]:
    """`make(holder, ledger, **policy)`: a sentinel on the real ledger, Redis, webhook, `clock`.

    Its duty heartbeat is stale after 75 s; a standby should take over within 40 s.
    """
    made: list[tuple[RedisLeases, WebhookAlerter]] = []

    def make(
        holder: str = "sentinel:1", ledger: LedgerClient = ledger_client, **policy: Any
    ) -> Sentinel:
        store = RedisLeases(redis_db_url, holder=holder, ttl_s=30)
        alerter = WebhookAlerter(webhook.url, timeout_s=5, backoff_s=0.01)
        made.append((store, alerter))
        settings = {
            "stale_after_s": STALE_AFTER_S,
            "takeover_within_s": TAKEOVER_WITHIN_S,
            "growth_cycles": 3,
            "remind_after_s": 900.0,
            **policy,
        }
        return Sentinel(
            ledger=ledger,
            heartbeats=LedgerHeartbeats(ledger, keep=settings["growth_cycles"] + 1),
            lease=store.lease("sentinel"),
            duty_lease=store.lease(DUTY_LEASE),
            policy=SentinelPolicy(**settings),
            holder=holder,
            alerter=alerter,
            clock=clock,
        )

    yield make
    for store, alerter in made:
        alerter.close()
        store.close()
