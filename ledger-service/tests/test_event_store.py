"""The event store on SQLite and PostgreSQL: versions, conflicts, idempotency, atomicity."""

from __future__ import annotations

import socket

import pytest
from ledger_support import Ledger
from sqlalchemy import Engine, func, select

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.errors import NotFound
from ironclaw.contracts.kit.metrics import create_metrics
from ironclaw.ledger.adapters.event_store import EventStore, IdReused, VersionConflictError
from ironclaw.ledger.adapters.tables import events, outbox, runs
from ironclaw.ledger.adapters.views import Views
from ironclaw.ledger.domain.records import EventRefused, StaleAttempt


def count(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_append_assigns_consecutive_versions_and_increasing_positions(ledger: Ledger) -> None:
    run_id = ledger.new_run()
    result = ledger.append(
        run_id,
        [
            ev.RunPlanningStarted(run_id=run_id, planner="playbook"),
            ev.RunCancelRequested(run_id=run_id),
        ],
        expected=1,
    )
    assert [e.version for e in result.events] == [2, 3]
    assert result.events[0].position < result.events[1].position
    assert result.version == 3
    assert ledger.store.stream_version(run_id) == 3


def test_conflict_writes_nothing(ledger: Ledger, engine: Engine) -> None:
    run_id = ledger.new_run()
    before = (count(engine, events), count(engine, outbox))
    with pytest.raises(VersionConflictError) as raised:
        ledger.append(run_id, [ev.RunPlanningStarted(run_id=run_id, planner="x")], expected=0)
    assert raised.value.extra == {"stream_id": run_id, "expected_version": 0, "actual_version": 1}
    assert (count(engine, events), count(engine, outbox)) == before
    assert Views(engine).run(run_id).status == "received"


def test_resending_an_append_returns_the_stored_result_and_writes_nothing(
    ledger: Ledger, engine: Engine
) -> None:
    run_id = new_id("run")
    request = AppendRequest(
        stream_id=run_id,
        expected_version=0,
        events=[ev.NewEvent.of(ev.RunReceived(run_id=run_id, theater="default", message="hi"))],
    )
    (first,) = ledger.store.append([request])
    before = (count(engine, events), count(engine, outbox))
    ledger.append(run_id, [ev.RunPlanningStarted(run_id=run_id, planner="p")])
    (again,) = ledger.store.append([request])  # stale expected_version, but already stored
    assert again.duplicate is True
    assert again.events == first.events
    assert count(engine, events) == before[0] + 1
    assert count(engine, outbox) == before[1]


def test_partly_stored_ids_are_refused(ledger: Ledger) -> None:
    run_id = ledger.new_run()
    stored = ledger.store.read_stream(run_id).events[0]
    fresh = ev.NewEvent.of(ev.RunPlanningStarted(run_id=run_id, planner="p"))
    reused = ev.NewEvent(id=stored.id, type=stored.type, data=stored.data)
    with pytest.raises(IdReused):
        ledger.store.append(
            [AppendRequest(stream_id=run_id, expected_version=None, events=[reused, fresh])]
        )
    assert ledger.store.stream_version(run_id) == 1


def test_a_batch_across_streams_is_all_or_nothing(ledger: Ledger, engine: Engine) -> None:
    first_run, second_run = new_id("run"), ledger.new_run()
    before = count(engine, events)
    requests = [
        AppendRequest(
            stream_id=first_run,
            expected_version=0,
            events=[ev.NewEvent.of(ev.RunReceived(run_id=first_run, theater="t", message="m"))],
        ),
        AppendRequest(
            stream_id=second_run,
            expected_version=0,  # wrong: the stream is at 1
            events=[ev.NewEvent.of(ev.RunPlanningStarted(run_id=second_run, planner="p"))],
        ),
    ]
    with pytest.raises(VersionConflictError):
        ledger.store.append(requests)
    assert count(engine, events) == before
    with pytest.raises(NotFound):
        Views(engine).run(first_run)


def test_an_event_that_does_not_fit_the_state_is_refused_and_nothing_changes(
    ledger: Ledger, engine: Engine
) -> None:
    run_id = ledger.new_run()
    (order_id,) = ledger.plan(run_id)
    before = count(engine, events)
    claim = ev.OrderClaimed(order_id=order_id, run_id=run_id, attempt=1, worker_id="w", lease_s=30)
    with pytest.raises(StaleAttempt):  # attempt 1 was never issued: the order is at attempt 0
        ledger.append(order_id, [claim])
    ledger.issue(run_id, order_id)
    ledger.append(order_id, [claim])
    with pytest.raises(EventRefused):  # a second claim of the same attempt
        ledger.append(order_id, [claim])
    assert count(engine, events) == before + 2
    assert Views(engine).order(order_id).status == "claimed"


def test_events_must_go_to_their_own_stream(ledger: Ledger) -> None:
    run_id, other = new_id("run"), new_id("run")
    with pytest.raises(EventRefused, match="cannot be appended"):
        ledger.append(other, [ev.RunReceived(run_id=run_id, theater="default", message="m")])
    with pytest.raises(EventRefused):
        ledger.append("theater-wrong", [ev.TheaterRegistered(name="right", source="/s", path="/p")])


def test_a_settled_run_refuses_further_status_changes(ledger: Ledger, engine: Engine) -> None:
    run_id = ledger.new_run()
    ledger.append(run_id, [ev.RunCancelled(run_id=run_id)])
    with pytest.raises(EventRefused, match="already cancelled"):
        ledger.append(run_id, [ev.RunCompleted(run_id=run_id, response="done")])
    assert Views(engine).run(run_id).status == "cancelled"


def test_the_whole_lifecycle_is_visible_in_the_views(ledger: Ledger, engine: Engine) -> None:
    run_id = ledger.new_run()
    first, second = ledger.plan(run_id, ["a", "b"])
    for order_id in (first, second):
        ledger.issue(run_id, order_id)
        ledger.run_attempt(run_id, order_id, tokens=100)
    ledger.append(
        first,
        [
            ev.IntegrationStarted(order_id=first, run_id=run_id, attempt=1),
            ev.Integrated(
                order_id=first, run_id=run_id, attempt=1, theater="default", merged_commit="c" * 40
            ),
        ],
    )
    views = Views(engine)
    order = views.order(first)
    assert order.status == "integrated"
    assert order.integration is not None
    assert order.integration.merged_commit == "c" * 40
    assert order.attempts[0].aar is not None
    assert order.attempts[0].aar.summary == "did it"
    run = views.run(run_id)
    assert [o.status for o in run.orders] == ["integrated", "completed"]
    assert run.tokens.input == 200
    assert run.tokens.output == 100
    assert run.cost_usd == pytest.approx(0.02)
    issued = views.orders(statuses=[], run_id=run_id, theater=None, limit=10)
    assert {o.order_id for o in issued} == {first, second}


def test_reissue_supersedes_the_previous_attempt(ledger: Ledger, engine: Engine) -> None:
    run_id = ledger.new_run()
    (order_id,) = ledger.plan(run_id)
    ledger.issue(run_id, order_id)
    ledger.append(
        order_id,
        [ev.OrderClaimed(order_id=order_id, run_id=run_id, attempt=1, worker_id="w", lease_s=5)],
    )
    ledger.issue(run_id, order_id, attempt=2)
    with pytest.raises(StaleAttempt):
        ledger.append(
            order_id,
            [ev.OrderFailed(order_id=order_id, run_id=run_id, attempt=1, reason="late unit")],
        )
    order = Views(engine).order(order_id)
    assert [a.status for a in order.attempts] == ["superseded", "issued"]
    assert order.attempt == 2
    assert order.status == "issued"


def test_snapshots_are_taken_every_n_versions(engine: Engine) -> None:
    ledger = Ledger(EventStore(engine, snapshot_every=3))
    run_id = ledger.new_run()
    (order_id,) = ledger.plan(run_id)
    ledger.issue(run_id, order_id)  # order stream: versions 1, 2
    ledger.run_attempt(run_id, order_id)  # versions 3, 4, 5 in one append
    snapshot = ledger.store.latest_snapshot(order_id)
    assert snapshot.version == 3
    assert snapshot.state["order"]["status"] == "claimed"  # the state at version 3, not 5
    ledger.append(order_id, [ev.IntegrationStarted(order_id=order_id, run_id=run_id, attempt=1)])
    snapshot = ledger.store.latest_snapshot(order_id)
    assert snapshot.version == 6
    assert snapshot.state["order"]["status"] == "integrating"
    tail = ledger.store.read_stream(order_id, after_version=snapshot.version)
    assert tail.events == []


def test_read_stream_and_feed(ledger: Ledger) -> None:
    run_id = ledger.new_run()
    ledger.append(run_id, [ev.RunPlanningStarted(run_id=run_id, planner="p")])
    page = ledger.store.read_stream(run_id, after_version=1)
    assert [e.type for e in page.events] == ["RunPlanningStarted"]
    assert page.version == 2
    with pytest.raises(NotFound):
        ledger.store.read_stream(new_id("run"))
    everything = ledger.store.feed(after=0, limit=1000).events
    first = ledger.store.feed(after=0, limit=1)
    rest = ledger.store.feed(after=first.last_position, limit=1000)
    assert first.events + rest.events == everything
    assert (
        ledger.store.feed(after=everything[-1].position, limit=10).last_position
        == everything[-1].position
    )


def test_theaters_project_their_mainline_head(ledger: Ledger, engine: Engine) -> None:
    stream = ev.theater_stream("demo")
    ledger.append(stream, [ev.TheaterRegistered(name="demo", source="/src", path="/t/demo")], 0)
    ledger.append(stream, [ev.MainlineAdvanced(name="demo", head="d" * 40)], 1)
    theater = Views(engine).theater("demo")
    assert (theater.head, theater.mainline, theater.path) == ("d" * 40, "main", "/t/demo")
    with pytest.raises(EventRefused):
        ledger.append(stream, [ev.TheaterRegistered(name="demo", source="/x", path="/y")])
    assert count(engine, runs) == 0


def test_appends_and_refusals_are_counted_in_statsd(engine: Engine) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    metrics = create_metrics("ledger", "127.0.0.1", receiver.getsockname()[1])
    ledger = Ledger(EventStore(engine, metrics=metrics))
    run_id = ledger.new_run()
    with pytest.raises(VersionConflictError):
        ledger.append(run_id, [ev.RunCancelled(run_id=run_id)], expected=0)
    packets = set()
    while not {"append.events", "append.VersionConflictError"} <= {
        p.split(":")[0].removeprefix("ironclaw.ledger.") for p in packets
    }:
        packets.add(receiver.recv(1024).decode())
    assert "ironclaw.ledger.append.events:1|c" in packets
    receiver.close()


def test_an_event_id_repeated_within_an_append_is_refused(ledger: Ledger) -> None:
    run_id = ledger.new_run()
    repeated = ev.NewEvent.of(ev.RunCancelRequested(run_id=run_id))
    request = AppendRequest(stream_id=run_id, expected_version=1, events=[repeated, repeated])
    with pytest.raises(EventRefused, match="unique within an append"):
        ledger.store.append([request])
    assert ledger.store.stream_version(run_id) == 1


def test_an_entitys_version_follows_its_stream_even_for_events_without_a_projection(
    ledger: Ledger, engine: Engine
) -> None:
    run_id = ledger.new_run()
    (order_id,) = ledger.plan(run_id)
    ledger.issue(run_id, order_id)
    ledger.run_attempt(run_id, order_id)
    ledger.append(order_id, [ev.IntegrationReady(order_id=order_id, run_id=run_id, attempt=1)])
    order = Views(engine).order(order_id)
    assert order.version == ledger.store.stream_version(order_id) == 6
    # a writer appending at the version it read must succeed
    ledger.append(
        order_id,
        [ev.IntegrationStarted(order_id=order_id, run_id=run_id, attempt=1)],
        expected=order.version,
    )
