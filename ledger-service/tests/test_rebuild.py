"""Property: any valid sequence of events rebuilds to exactly the live projections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport, GateResult, TokenUsage
from ironclaw.ledger.adapters.event_store import EventStore
from ironclaw.ledger.adapters.rebuild import check, rebuild
from ironclaw.ledger.adapters.sql_store import TABLES
from ironclaw.ledger.adapters.tables import snapshots

SNAPSHOT_EVERY = 3
# Any text PostgreSQL can store (NUL cannot be; events refuse it, see test_events.py).
TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
Step = tuple[str, list[ev.EventPayload]]
PROFILES = ("default", "fast", "slow")


@dataclass
class OrderModel:
    run_id: str
    status: str = "planned"
    attempt: int = 0


@dataclass
class FleetModel:
    """Just enough of the fleet's state to choose a valid next event."""

    draw: Callable[[st.SearchStrategy[Any]], Any]
    runs: dict[str, str] = field(default_factory=dict)
    orders: dict[str, OrderModel] = field(default_factory=dict)
    theaters: list[str] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)

    def actions(self) -> list[Callable[[], list[Step]]]:
        found: list[Callable[[], list[Step]]] = [
            self.new_run,
            self.new_theater,
            self.toggle_profile,
        ]
        if any(s in {"received", "planning"} for s in self.runs.values()):
            found.append(self.plan_run)
        if any(s not in {"completed", "failed", "cancelled"} for s in self.runs.values()):
            found += [self.settle_run, self.ask_approval]
        if any(s == "awaiting_approval" for s in self.runs.values()):
            found.append(self.decide_approval)
        if self.orders:
            found += [self.advance_order, self.note_recovery]
        if self.theaters:
            found += [self.advance_mainline, self.toggle_dispatch]
        return found

    def pick(self, candidates: list[str]) -> str:
        return str(self.draw(st.sampled_from(candidates)))

    def new_run(self) -> list[Step]:
        run_id = new_id("run")
        message = self.draw(st.text(TEXT, min_size=1, max_size=30))
        self.runs[run_id] = "received"
        return [(run_id, [ev.RunReceived(run_id=run_id, theater="default", message=message)])]

    def plan_run(self) -> list[Step]:
        run_id = self.pick([r for r, s in self.runs.items() if s in {"received", "planning"}])
        specs = [
            ev.PlannedOrder(
                order_id=new_id("ord"),
                key=f"k{n}",
                objective=f"objective {n}",
                profile=self.draw(st.sampled_from([None, *PROFILES])),
            )
            for n in range(self.draw(st.integers(1, 3)))
        ]
        self.runs[run_id] = "executing"
        steps: list[Step] = [(run_id, [ev.RunPlanned(run_id=run_id, planner="p", orders=specs)])]
        for spec in specs:
            planned: list[ev.EventPayload] = [
                ev.OrderPlanned(order_id=spec.order_id, run_id=run_id, theater="default", spec=spec)
            ]
            self.orders[spec.order_id] = OrderModel(run_id)
            if self.draw(st.booleans()):
                planned.append(ev.OrderIssued(order_id=spec.order_id, run_id=run_id, attempt=1))
                self.orders[spec.order_id] = OrderModel(run_id, "issued", 1)
            steps.append((spec.order_id, planned))
        return steps

    def settle_run(self) -> list[Step]:
        unsettled = [
            r for r, s in self.runs.items() if s not in {"completed", "failed", "cancelled"}
        ]
        run_id = self.pick(unsettled)
        ending = self.draw(st.sampled_from(["completed", "failed", "cancelled"]))
        self.runs[run_id] = ending
        payload: ev.EventPayload = {
            "completed": ev.RunCompleted(run_id=run_id, response="done"),
            "failed": ev.RunFailed(run_id=run_id, reason="gates failed"),
            "cancelled": ev.RunCancelled(run_id=run_id),
        }[ending]
        return [(run_id, [ev.RunCancelRequested(run_id=run_id), payload])]

    def ask_approval(self) -> list[Step]:
        unsettled = [
            r for r, s in self.runs.items() if s not in {"completed", "failed", "cancelled"}
        ]
        run_id = self.pick(unsettled)
        self.runs[run_id] = "awaiting_approval"
        return [(run_id, [ev.RunAwaitingApproval(run_id=run_id, reason="policy")])]

    def decide_approval(self) -> list[Step]:
        run_id = self.pick([r for r, s in self.runs.items() if s == "awaiting_approval"])
        if self.draw(st.booleans()):
            self.runs[run_id] = "executing"
            return [(run_id, [ev.RunApproved(run_id=run_id, approver="ops")])]
        self.runs[run_id] = "cancelled"
        return [(run_id, [ev.RunRejected(run_id=run_id, approver="ops", comment="no")])]

    def advance_order(self) -> list[Step]:
        order_id = self.pick(list(self.orders))
        order = self.orders[order_id]
        choices = self._order_moves(order_id, order)
        if not choices:
            return []
        status, payload = self.draw(st.sampled_from(choices))
        order.status = status
        if isinstance(payload, ev.OrderIssued):
            order.attempt = payload.attempt
        return [(order_id, [payload])]

    def _order_moves(self, order_id: str, o: OrderModel) -> list[tuple[str, ev.EventPayload]]:
        run_id, attempt = o.run_id, o.attempt
        ids = {"order_id": order_id, "run_id": run_id, "attempt": attempt}
        moves: list[tuple[str, ev.EventPayload]] = []
        if o.status not in {"integrated", "cancelled"}:
            moves.append(("issued", ev.OrderIssued(**{**ids, "attempt": attempt + 1})))
        if o.status not in {
            "integrated",
            "failed",
            "integration_failed",
            "cancelled",
            "integrating",
        }:
            moves.append(("cancelled", ev.OrderCancelled(order_id=order_id, run_id=run_id)))
        if o.status == "issued":
            moves.append(("claimed", ev.OrderClaimed(**ids, worker_id="w", lease_s=30)))
        if o.status == "claimed":
            started = ev.AttemptStarted(
                **ids, branch="b", worktree="/w", base_commit="a" * 40, engine="command"
            )
            moves.append(("running", started))
        if o.status in {"claimed", "running"}:
            tokens = TokenUsage(input=self.draw(st.integers(0, 500)), output=7)
            moves.append(
                (o.status, ev.SignalEmitted(order_id=order_id, attempt=attempt, tokens=tokens))
            )
        if o.status in {"issued", "claimed", "running"}:
            report = self._aar()
            moves += [
                ("completed", ev.OrderCompleted(**ids, branch="b", commits=["c" * 40], aar=report)),
                ("failed", ev.OrderFailed(**ids, reason="engine crashed", aar=report)),
                ("blocked", ev.OrderBlocked(**ids, reason="needs a decision")),
            ]
        if o.status in {"completed", "integrating"}:
            gates = [GateResult(name="tests", passed=True, duration_s=1.5)]
            moves += [
                ("integrating", ev.IntegrationStarted(**ids)),
                (
                    "integrated",
                    ev.Integrated(**ids, theater="default", merged_commit="d" * 40, gates=gates),
                ),
                (
                    "integration_failed",
                    ev.IntegrationFailed(**ids, reason="tests", output_tail="E"),
                ),
            ]
        if attempt > 1:
            moves.append((o.status, ev.SignalEmitted(order_id=order_id, attempt=attempt - 1)))
        return moves

    def _aar(self) -> AfterActionReport:
        return AfterActionReport(
            outcome="completed",
            summary=self.draw(st.text(TEXT, max_size=20)),
            tokens=TokenUsage(
                input=self.draw(st.integers(0, 10_000)), output=self.draw(st.integers(0, 999))
            ),
            cost_usd=self.draw(st.floats(0, 5, allow_nan=False)),
        )

    def note_recovery(self) -> list[Step]:
        order_id = self.pick(list(self.orders))
        attempt = max(self.orders[order_id].attempt, 1)
        if self.orders[order_id].attempt == 0:
            return [
                (order_id, [ev.RecoveryRequired(order_id=order_id, attempt=1, reason="stalled")])
            ]
        return [
            (
                order_id,
                [
                    ev.RecoveryRequired(
                        order_id=order_id, attempt=attempt, reason="looping", detail="x"
                    ),
                    ev.RescueSaved(
                        order_id=order_id, attempt=attempt, ref="refs/r", commit="e" * 40
                    ),
                ],
            )
        ]

    def new_theater(self) -> list[Step]:
        name = f"t-{new_id('run')[4:]}"
        self.theaters.append(name)
        registered = ev.TheaterRegistered(name=name, source="/src", path=f"/theaters/{name}")
        return [(ev.theater_stream(name), [registered])]

    def advance_mainline(self) -> list[Step]:
        name = self.pick(self.theaters)
        head = self.draw(st.text("0123456789abcdef", min_size=40, max_size=40))
        return [(ev.theater_stream(name), [ev.MainlineAdvanced(name=name, head=head)])]

    def toggle_dispatch(self) -> list[Step]:
        name = self.pick(self.theaters)
        payload: ev.EventPayload
        if name in self.paused:
            self.paused.discard(name)
            payload = ev.DispatchResumed(theater=name, reason="a new day")
        else:
            self.paused.add(name)
            payload = ev.DispatchPaused(theater=name, reason="daily token budget exhausted")
        return [(ev.theater_stream(name), [payload])]

    def toggle_profile(self) -> list[Step]:
        name = self.pick(list(PROFILES))
        payload: ev.EventPayload
        if name in self.disabled:
            self.disabled.discard(name)
            payload = ev.ProfileEnabled(profile=name, operator="ops")
        else:
            self.disabled.add(name)
            streak = self.draw(st.integers(0, 9))
            payload = ev.ProfileDisabled(
                profile=name, reason="failing", consecutive_failures=streak
            )
        return [(ev.profile_stream(name), [payload])]


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as connection:
        return {
            name: sorted((dict(r) for r in connection.execute(select(table)).mappings()), key=repr)
            for name, table in [*TABLES.items(), ("snapshots", snapshots)]
        }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_valid_histories_rebuild_to_the_live_projections(
    engine: Engine, data: st.DataObject
) -> None:
    store = EventStore(engine, snapshot_every=SNAPSHOT_EVERY)
    model = FleetModel(draw=data.draw)
    for _ in range(data.draw(st.integers(1, 30), label="steps")):
        steps = data.draw(st.sampled_from(model.actions()))()
        requests = [
            AppendRequest(
                stream_id=stream,
                expected_version=None,
                events=[ev.NewEvent.of(p) for p in payloads],
            )
            for stream, payloads in steps
            if payloads
        ]
        if not requests:
            continue
        if data.draw(st.booleans(), label="one transaction"):
            store.append(requests)
        else:
            for request in requests:
                store.append([request])

    assert check(engine, snapshot_every=SNAPSHOT_EVERY) == []
    live = dump(engine)
    rebuild(engine, snapshot_every=SNAPSHOT_EVERY)
    assert dump(engine) == live


def test_check_reports_a_corrupted_projection(engine: Engine) -> None:
    store = EventStore(engine)
    run_id = new_id("run")
    received = ev.NewEvent.of(ev.RunReceived(run_id=run_id, theater="default", message="m"))
    store.append([AppendRequest(stream_id=run_id, expected_version=0, events=[received])])
    with engine.begin() as connection:
        connection.execute(TABLES["runs"].update().values(status="completed"))
    (difference,) = check(engine, snapshot_every=100)
    assert difference.key == (run_id,)
    assert "status: live='completed' rebuilt='received'" in difference.describe()
    rebuild(engine, snapshot_every=100)
    assert check(engine, snapshot_every=100) == []
