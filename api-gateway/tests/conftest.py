"""Gateway test fixtures: the gateway app over a real ledger, and a script of ledger events.

`script` plays the other services' part by appending the events they would (a plan, a failed
order, an integration, a settled run) straight to the real ledger.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openai_server import serve

from ironclaw.contracts.api import RunView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.events import (
    Integrated,
    OrderCompleted,
    OrderFailed,
    OrderIssued,
    OrderPlanned,
    PlannedOrder,
    RunCompleted,
    RunPlanned,
    StoredEvent,
    TheaterRegistered,
    theater_stream,
)
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport
from ironclaw.gateway.app import create_app
from ironclaw.gateway.config import Settings
from ironclaw.vault.app import create_app as create_vault_app
from ironclaw.vault.config import Settings as VaultSettings

THEATER = "demo"


def closed_port_url() -> str:
    """An address nothing listens on: a dependency that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The ledger's database: SQLite here, as the gateway never touches it directly.

    Tests that race concurrent writers also run on PostgreSQL, with
    `@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)`.
    """
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def down_url() -> str:
    return closed_port_url()


@pytest.fixture
def vault_url(ledger_url: str, tmp_path: Path) -> Iterator[str]:
    """The real vault over HTTP, its theaters under the test's own `$IRONCLAW_HOME`."""
    settings = VaultSettings(home=tmp_path / "home", ledger_url=ledger_url, internal_token="vt0k")
    with serve(create_vault_app(settings)) as url:
        yield url


@pytest.fixture
def settings_for(ledger_url: str) -> Callable[..., Settings]:
    """Gateway settings over the test's ledger; the vault is down unless a test says otherwise."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "ledger_url": ledger_url,
            "vault_url": closed_port_url(),
            "broker_url": None,
            "api_keys": None,
            "rate_limit": None,
            "dependency_retry_s": 0.2,
            "run_wait_poll_s": 0.05,
            "events_poll_s": 0.05,
        }
        values.update(overrides)
        # `...` leaves a setting to the environment (IRONCLAW_*, *_FILE).
        return Settings(**{name: value for name, value in values.items() if value is not ...})  # type: ignore[arg-type]

    return build


@pytest.fixture
def gateway_for(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """Builds gateway test clients (lifespan started) with setting overrides."""
    with ExitStack() as stack:

        def build(**overrides: object) -> TestClient:
            app = create_app(settings_for(**overrides))
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield build


@pytest.fixture
def gateway(gateway_for: Callable[..., TestClient]) -> TestClient:
    """The gateway with default test settings: open, no rate limit, the vault down."""
    return gateway_for()


class LedgerScript:
    """Appends what the other services would, so gateway behaviour can be driven end to end."""

    def __init__(self, ledger: LedgerClient) -> None:
        self.ledger = ledger

    def register_theater(self, name: str = THEATER) -> str:
        registered = TheaterRegistered(
            name=name, source=f"/srv/{name}", mainline="main", path=f"/data/theaters/{name}"
        )
        self.ledger.append(theater_stream(name), [registered], expected_version=0)
        return name

    def plan(self, run_id: str, theater: str, keys: list[str]) -> list[str]:
        """co's part: plan the run into orders with these keys, each issued as attempt 1."""
        specs = [
            PlannedOrder(order_id=new_id("ord"), key=key, objective=f"objective {key}")
            for key in keys
        ]
        appends = [
            LedgerClient.request(
                run_id,
                [RunPlanned(run_id=run_id, planner="test", orders=specs)],
                expected_version=None,
            )
        ]
        for spec in specs:
            planned = OrderPlanned(
                order_id=spec.order_id, run_id=run_id, theater=theater, spec=spec
            )
            issued = OrderIssued(order_id=spec.order_id, run_id=run_id, attempt=1)
            appends.append(
                LedgerClient.request(spec.order_id, [planned, issued], expected_version=0)
            )
        self.ledger.append_batch(appends)
        return [spec.order_id for spec in specs]

    def fail(self, run_id: str, order_id: str, attempt: int = 1) -> None:
        failed = OrderFailed(
            order_id=order_id, run_id=run_id, attempt=attempt, reason="tests failed"
        )
        self.ledger.append(order_id, [failed], expected_version=None)

    def integrate(
        self, run_id: str, order_id: str, theater: str = THEATER, *, attempt: int = 1
    ) -> None:
        aar = AfterActionReport(outcome="completed", summary="done", commits=["c0ffee"])
        ids = {"order_id": order_id, "run_id": run_id, "attempt": attempt}
        completed = OrderCompleted(**ids, branch="b", commits=["c0ffee"], aar=aar)
        integrated = Integrated(**ids, theater=theater, merged_commit="c0ffee")
        self.ledger.append(order_id, [completed, integrated], expected_version=None)

    def complete(self, run_id: str, response: str = "all done") -> None:
        self.ledger.append(
            run_id, [RunCompleted(run_id=run_id, response=response)], expected_version=None
        )

    def run(self, run_id: str) -> RunView:
        return self.ledger.get_run(run_id)

    def events(self, event_type: str | None = None) -> list[StoredEvent]:
        """Every event in the ledger (of one type), in position order."""
        found: list[StoredEvent] = []
        after = 0
        while True:
            page = self.ledger.feed(after=after, limit=1000)
            found.extend(page.events)
            if not page.events:
                break
            after = page.last_position
        return [event for event in found if event_type is None or event.type == event_type]


@pytest.fixture
def script(ledger_client: LedgerClient) -> LedgerScript:
    return LedgerScript(ledger_client)


@pytest.fixture
def theater(script: LedgerScript) -> str:
    """A non-default theater registered in the ledger (as the vault would register it)."""
    return script.register_theater()
