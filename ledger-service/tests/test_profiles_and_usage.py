"""Profile health, daily usage and paused dispatch: projected from events, served over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from ledger_support import aar

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerError, LedgerNotFound
from ironclaw.contracts.ids import new_id
from ironclaw.ledger.domain.projector import project
from ironclaw.ledger.domain.records import EventRecord, EventRefused, check_stream
from ironclaw.ledger.domain.store import MemoryStore, Row

T0 = datetime(2026, 3, 1, 23, 59, 50, tzinfo=UTC)


class Fleet:
    """Events projected into the in-memory store, one second apart from `T0`."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.versions: dict[str, int] = {}
        self.clock = T0
        self.run_id = new_id("run")
        self.apply(self.run_id, ev.RunReceived(run_id=self.run_id, theater="alpha", message="m"))

    def apply(self, stream: str, payload: ev.EventPayload) -> None:
        self.versions[stream] = self.versions.get(stream, 0) + 1
        self.clock += timedelta(seconds=1)
        record = EventRecord("evt", stream, self.versions[stream], payload, self.clock)
        project(self.store, record)

    def order(self, profile: str | None = "fast", *, claim: bool = True) -> str:
        """A new Order on `profile`, issued as attempt 1 (and claimed): its id."""
        order_id = new_id("ord")
        spec = ev.PlannedOrder(order_id=order_id, key="k", objective="o", profile=profile)
        self.apply(
            order_id,
            ev.OrderPlanned(order_id=order_id, run_id=self.run_id, theater="alpha", spec=spec),
        )
        self.apply(order_id, ev.OrderIssued(order_id=order_id, run_id=self.run_id, attempt=1))
        if claim:
            claimed = ev.OrderClaimed(
                order_id=order_id, run_id=self.run_id, attempt=1, worker_id="w", lease_s=30
            )
            self.apply(order_id, claimed)
        return order_id

    def fail(self, profile: str | None = "fast", *, claim: bool = True) -> None:
        order_id = self.order(profile, claim=claim)
        failed = ev.OrderFailed(
            order_id=order_id,
            run_id=self.run_id,
            attempt=1,
            reason="tests failed",
            aar=aar(tokens=100, cost=0.5),
        )
        self.apply(order_id, failed)

    def complete(self, profile: str | None = "fast") -> str:
        order_id = self.order(profile)
        done = ev.OrderCompleted(
            order_id=order_id,
            run_id=self.run_id,
            attempt=1,
            branch="b",
            commits=["c" * 40],
            aar=aar(tokens=10),
        )
        self.apply(order_id, done)
        return order_id

    def profile(self, name: str) -> Row:
        row = self.store.get("profiles", (name,))
        assert row is not None
        return row

    def register(self, theater: str = "alpha") -> None:
        registered = ev.TheaterRegistered(name=theater, source="/src", path="/t")
        self.apply(ev.theater_stream(theater), registered)


@pytest.fixture
def fleet() -> Fleet:
    return Fleet()


def test_failures_of_run_attempts_build_a_streak_that_a_completion_ends(fleet: Fleet) -> None:
    for _ in range(3):
        fleet.fail("fast")
    fleet.fail(None)

    assert fleet.profile("fast")["consecutive_failures"] == 3
    assert fleet.profile("fast")["last_failure"] == "tests failed"
    assert fleet.profile("default")["consecutive_failures"] == 1
    fleet.complete("fast")
    assert fleet.profile("fast")["consecutive_failures"] == 0
    assert fleet.profile("default")["consecutive_failures"] == 1


def test_a_failure_nobody_claimed_is_not_the_profiles(fleet: Fleet) -> None:
    fleet.fail("fast")
    fleet.fail("fast", claim=False)  # e.g. a dispatch the worker refused

    assert fleet.profile("fast")["consecutive_failures"] == 1


def test_an_integration_failure_counts_against_the_profile(fleet: Fleet) -> None:
    order_id = fleet.complete("fast")
    failed = ev.IntegrationFailed(
        order_id=order_id, run_id=fleet.run_id, attempt=1, reason="gate pytest failed"
    )
    fleet.apply(order_id, failed)

    assert fleet.profile("fast")["consecutive_failures"] == 1
    assert fleet.profile("fast")["last_failure"] == "gate pytest failed"


def test_disable_and_enable_move_the_profile_stream_and_enable_resets_the_streak(
    fleet: Fleet,
) -> None:
    for _ in range(5):
        fleet.fail("fast")
    stream = ev.profile_stream("fast")
    assert fleet.profile("fast")["version"] == 0

    fleet.apply(stream, ev.ProfileDisabled(profile="fast", reason="5 failures in a row"))
    assert fleet.profile("fast")["disabled"] is True
    assert fleet.profile("fast")["disabled_reason"] == "5 failures in a row"
    assert fleet.profile("fast")["version"] == 1
    fleet.fail("fast")
    assert fleet.profile("fast")["consecutive_failures"] == 6

    fleet.apply(stream, ev.ProfileEnabled(profile="fast", operator="ana"))
    row = fleet.profile("fast")
    assert (row["disabled"], row["disabled_reason"], row["consecutive_failures"]) == (
        False,
        None,
        0,
    )
    assert row["version"] == 2


def test_enabling_a_profile_without_a_record_is_refused(fleet: Fleet) -> None:
    with pytest.raises(EventRefused, match="'ghost' has no record"):
        fleet.apply(ev.profile_stream("ghost"), ev.ProfileEnabled(profile="ghost", operator="a"))


def test_usage_is_counted_per_theater_on_the_utc_day_each_attempt_settled(fleet: Fleet) -> None:
    fleet.fail("fast")  # settles before midnight UTC
    fleet.clock = T0 + timedelta(seconds=10)  # midnight UTC
    fleet.complete("fast")
    fleet.complete("slow")

    first = fleet.store.get("usage", (date(2026, 3, 1), "alpha"))
    second = fleet.store.get("usage", (date(2026, 3, 2), "alpha"))
    assert first is not None
    assert second is not None
    assert (first["attempts"], first["tokens_input"], first["cost_usd"]) == (1, 100, 0.5)
    assert (second["attempts"], second["tokens_input"], second["tokens_output"]) == (2, 20, 10)


def test_dispatch_pauses_and_resumes_once_each(fleet: Fleet) -> None:
    fleet.register()
    stream = ev.theater_stream("alpha")
    fleet.apply(stream, ev.DispatchPaused(theater="alpha", reason="daily token budget"))
    theater = fleet.store.get("theaters", ("alpha",))
    assert theater is not None
    assert theater["dispatch_paused"] == "daily token budget"
    with pytest.raises(EventRefused, match="already paused"):
        fleet.apply(stream, ev.DispatchPaused(theater="alpha", reason="again"))

    fleet.apply(stream, ev.DispatchResumed(theater="alpha"))
    assert theater["dispatch_paused"] is None
    with pytest.raises(EventRefused, match="not paused"):
        fleet.apply(stream, ev.DispatchResumed(theater="alpha"))
    with pytest.raises(EventRefused, match="'beta' does not exist"):
        fleet.apply(ev.theater_stream("beta"), ev.DispatchPaused(theater="beta", reason="x"))


def test_profile_and_dispatch_events_belong_to_their_own_streams() -> None:
    with pytest.raises(EventRefused):
        check_stream("patrol-duty", ev.ProfileDisabled(profile="fast", reason="r"))
    with pytest.raises(EventRefused):
        check_stream("theater-beta", ev.DispatchPaused(theater="alpha", reason="r"))
    check_stream("profile-fast", ev.ProfileEnabled(profile="fast", operator="o"))
    check_stream("theater-alpha", ev.DispatchResumed(theater="alpha"))


# --- over HTTP --------------------------------------------------------------------------------


def settle_on_ledger(ledger: LedgerClient, profile: str, *, completed: bool) -> None:
    """A Run with one Order on `profile`, claimed and then completed or failed."""
    run_id, order_id = new_id("run"), new_id("ord")
    ledger.append(
        run_id, [ev.RunReceived(run_id=run_id, theater="alpha", message="m")], expected_version=0
    )
    spec = ev.PlannedOrder(order_id=order_id, key="k", objective="o", profile=profile)
    settle: ev.EventPayload
    if completed:
        settle = ev.OrderCompleted(
            order_id=order_id,
            run_id=run_id,
            attempt=1,
            branch="b",
            commits=["c" * 40],
            aar=aar(tokens=40, cost=0.25),
        )
    else:
        settle = ev.OrderFailed(
            order_id=order_id, run_id=run_id, attempt=1, reason="boom", aar=aar(tokens=60, cost=0.5)
        )
    ledger.append(
        order_id,
        [
            ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="alpha", spec=spec),
            ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
            ev.OrderClaimed(order_id=order_id, run_id=run_id, attempt=1, worker_id="w", lease_s=30),
            settle,
        ],
        expected_version=0,
    )


def test_profiles_are_listed_by_streak_and_state(ledger_client: LedgerClient) -> None:
    for _ in range(3):
        settle_on_ledger(ledger_client, "fast", completed=False)
    settle_on_ledger(ledger_client, "slow", completed=False)
    settle_on_ledger(ledger_client, "steady", completed=True)
    disabled = ev.ProfileDisabled(profile="slow", reason="manual", consecutive_failures=1)
    ledger_client.append(ev.profile_stream("slow"), [disabled], expected_version=0)

    failing = ledger_client.list_profiles(min_failures=2, disabled=False)
    assert [(p.name, p.consecutive_failures, p.version) for p in failing] == [("fast", 3, 0)]
    assert [p.name for p in ledger_client.list_profiles(disabled=True)] == ["slow"]
    assert [p.name for p in ledger_client.list_profiles()] == ["fast", "slow", "steady"]
    slow = ledger_client.get_profile("slow")
    assert (slow.disabled, slow.disabled_reason, slow.version) == (True, "manual", 1)
    with pytest.raises(LedgerNotFound):
        ledger_client.get_profile("never-used")


def test_usage_of_a_day_sums_the_settled_attempts_of_each_theater(
    ledger_client: LedgerClient,
) -> None:
    settle_on_ledger(ledger_client, "fast", completed=False)
    settle_on_ledger(ledger_client, "fast", completed=True)
    today = datetime.now(UTC).date()

    (alpha,) = ledger_client.usage(day=today)
    assert (alpha.theater, alpha.day, alpha.attempts) == ("alpha", today, 2)
    assert (alpha.tokens.input, alpha.tokens.output, alpha.cost_usd) == (100, 50, 0.75)
    assert ledger_client.usage(day=today, theater="beta") == []
    assert ledger_client.usage(day=today - timedelta(days=1)) == []


def test_paused_dispatch_shows_on_the_theater_view(ledger_client: LedgerClient) -> None:
    stream = ev.theater_stream("alpha")
    registered = ev.TheaterRegistered(name="alpha", source="/src", path="/t")
    ledger_client.append(stream, [registered], expected_version=0)
    assert ledger_client.get_theater("alpha").dispatch_paused is None

    paused = ev.DispatchPaused(theater="alpha", reason="cost budget")
    ledger_client.append(stream, [paused], expected_version=1)
    assert ledger_client.get_theater("alpha").dispatch_paused == "cost budget"
    with pytest.raises(LedgerError) as refused:
        ledger_client.append(stream, [paused], expected_version=None)
    assert refused.value.status == 422
