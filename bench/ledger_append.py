"""Ledger append and rebuild throughput, each as a ratio to a raw-INSERT floor measured alongside.

    uv run python bench/ledger_append.py [--database-url URL] [--events N] [--clients C] [--sqlite]

Every figure is printed next to a baseline measured in the same run, on the same server, against
an identically migrated database: the machines this runs on are noisy, so only the ratios mean
anything. The ledger and its baseline are interleaved in rounds so that drift hits both alike.
The script creates its own databases (`ironclaw_bench_<random>_*`) and drops them at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, redirect_stderr
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.logging import configure_logging
from ironclaw.contracts.models import TokenUsage
from ironclaw.ledger.adapters.database import create_db_engine, normalise_url, write_transaction
from ironclaw.ledger.adapters.event_store import EventStore
from ironclaw.ledger.adapters.migrate import upgrade_database
from ironclaw.ledger.adapters.rebuild import CHUNK, rebuild
from ironclaw.ledger.adapters.tables import events

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SNAPSHOT_EVERY = 100
BATCH = 100
BATCHED = 4  # batches take N * BATCHED events: N alone gives the baseline too few ms to time
ROUNDS = 2
WARMUP_APPENDS = 30
ORDERS_PER_RUN = 4

WORKLOAD = (
    "SignalEmitted heartbeats on running Orders (each updates its orders + attempts rows; a "
    f"snapshot every {SNAPSHOT_EVERY} versions) and RunReceived on new Run streams (inserts a "
    "runs row + one outbox row)"
)
NOTES = (
    "baseline for appends: INSERT INTO events of the very same rows (same columns, same JSON; "
    "one row with RETURNING position, a batch as one executemany), one transaction per append, "
    "into an identically migrated database: no locks, no checks, no projections, no outbox",
    "baseline for rebuild: SELECT the columns rebuild reads FROM events ORDER BY position, "
    f"streamed {CHUNK} rows at a time, on the same database",
    "ratio = ledger / baseline: 1.0 would mean the ledger costs nothing over a bare insert",
)


@dataclass(frozen=True)
class Append:
    """One timed append: the request the ledger gets and the rows the baseline inserts."""

    request: AppendRequest
    rows: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, stream_id: str, expected: int, payloads: Sequence[ev.EventPayload]) -> Append:
        new_events = [ev.NewEvent.of(p) for p in payloads]
        rows = tuple(
            {
                "id": e.id,
                "stream_id": stream_id,
                "version": expected + n,
                "type": e.type,
                "data": e.data,
                "metadata": e.metadata.model_dump(mode="json"),
            }
            for n, e in enumerate(new_events, start=1)
        )
        request = AppendRequest(stream_id=stream_id, expected_version=expected, events=new_events)
        return cls(request, rows)


@dataclass
class Fleet:
    """Running Orders and their stream versions; hands out the appends that set up and use them."""

    versions: dict[str, int] = field(default_factory=dict)
    heartbeat: int = 0

    def start_orders(self, count: int) -> tuple[list[str], list[Append]]:
        """Orders claimed and started (untimed setup): one Run per ORDERS_PER_RUN Orders."""
        order_ids: list[str] = []
        setup: list[Append] = []
        for first in range(0, count, ORDERS_PER_RUN):
            run_id = new_id("run")
            setup.append(self.new_run(run_id))
            for n in range(first, min(count, first + ORDERS_PER_RUN)):
                order_id = new_id("ord")
                spec = ev.PlannedOrder(order_id=order_id, key=f"step-{n}", objective="add a test")
                lifecycle: list[ev.EventPayload] = [
                    ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="default", spec=spec),
                    ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
                    ev.OrderClaimed(
                        order_id=order_id, run_id=run_id, attempt=1, worker_id="w-1", lease_s=60
                    ),
                    ev.AttemptStarted(
                        order_id=order_id,
                        run_id=run_id,
                        attempt=1,
                        branch=f"ironclaw/{order_id}/1",
                        worktree=f"/var/ironclaw/worktrees/{order_id}-1",
                        base_commit="a" * 40,
                        engine="claude-code",
                    ),
                ]
                setup.append(self.append(order_id, lifecycle))
                order_ids.append(order_id)
        return order_ids, setup

    def new_run(self, run_id: str | None = None) -> Append:
        run_id = run_id or new_id("run")
        message = "Add retry with backoff to the HTTP client and cover it with tests"
        return self.append(
            run_id, [ev.RunReceived(run_id=run_id, theater="default", message=message)]
        )

    def heartbeats(self, order_ids: Sequence[str], events: int, per_append: int) -> list[Append]:
        """`events` heartbeats, `per_append` to an append, round-robin over the Orders."""
        appends = []
        for n in range(events // per_append):
            order_id = order_ids[n % len(order_ids)]
            appends.append(
                self.append(order_id, [self._signal(order_id) for _ in range(per_append)])
            )
        return appends

    def append(self, stream_id: str, payloads: Sequence[ev.EventPayload]) -> Append:
        expected = self.versions.get(stream_id, 0)
        self.versions[stream_id] = expected + len(payloads)
        return Append.of(stream_id, expected, payloads)

    def _signal(self, order_id: str) -> ev.SignalEmitted:
        self.heartbeat += 1
        return ev.SignalEmitted(
            order_id=order_id,
            attempt=1,
            progress=(self.heartbeat % 100) / 100,
            note="running tests: 41 passed, 2 failed",
            tool_calls=self.heartbeat % 50,
            files_changed=3,
            tokens=TokenUsage(input=1_000 + self.heartbeat, output=200 + self.heartbeat // 2),
            lease_s=60,
        )


class LockProbe:
    """Time appends spend waiting for, then holding, `LOCK TABLE events` (Postgres only).

    The hold ends when the connection goes back to the pool, just after the commit.
    """

    def __init__(self, engine: Engine) -> None:
        self.enabled = False
        self.waits: list[float] = []
        self.holds: list[float] = []
        self._local = threading.local()
        event.listen(engine, "before_cursor_execute", self._asked)
        event.listen(engine, "after_cursor_execute", self._granted)
        event.listen(engine.pool, "checkin", self._released)

    def _asked(self, *args: Any) -> None:
        if self.enabled and str(args[2]).startswith("LOCK TABLE events"):
            self._local.asked = time.perf_counter()

    def _granted(self, *args: Any) -> None:
        if self.enabled and str(args[2]).startswith("LOCK TABLE events"):
            self._local.granted = time.perf_counter()
            self.waits.append(self._local.granted - self._local.asked)

    def _released(self, *args: Any) -> None:
        granted = getattr(self._local, "granted", None)
        if self.enabled and granted is not None:
            self.holds.append(time.perf_counter() - granted)
        self._local.granted = None

    def summary(self) -> str | None:
        if not self.waits or not self.holds:
            return None
        wait_ms = 1000 * sum(self.waits) / len(self.waits)
        hold_ms = 1000 * sum(self.holds) / len(self.holds)
        return (
            f"LOCK TABLE events in the concurrent ledger run: mean wait {wait_ms:.2f} ms, mean "
            f"hold (insert + commit) {hold_ms:.2f} ms per append; one holder at a time caps "
            f"appends at ~{1000 / hold_ms:,.0f}/s whatever the number of clients"
        )


class Target:
    """The two databases of one backend: the ledger's and the baseline's."""

    def __init__(self, ledger: Engine, floor: Engine) -> None:
        self.ledger = ledger
        self.floor = floor
        self.store = EventStore(ledger, snapshot_every=SNAPSHOT_EVERY)
        self.probe = LockProbe(ledger)

    def append(self, item: Append) -> None:
        self.store.append([item.request])

    def insert_raw(self, item: Append) -> None:
        now = datetime.now(UTC)
        rows = [{**row, "recorded_at": now} for row in item.rows]
        with write_transaction(self.floor) as connection:
            connection.execute(insert(events), rows[0] if len(rows) == 1 else rows)

    def load(self, appends: Sequence[Append]) -> None:
        """Untimed: the same appends into both databases."""
        for item in appends:
            self.append(item)
            self.insert_raw(item)


@dataclass(frozen=True)
class Result:
    name: str
    ledger: float
    baseline: float

    @property
    def ratio(self) -> float:
        return self.ledger / self.baseline


def sequential(run: Callable[[Append], None], appends: Sequence[Append]) -> float:
    started = time.perf_counter()
    for item in appends:
        run(item)
    return time.perf_counter() - started


def concurrent(run: Callable[[Append], None], lanes: Sequence[Sequence[Append]]) -> float:
    """Seconds for one thread per lane to run its appends, all released at once."""
    barrier = threading.Barrier(len(lanes) + 1)

    def lane(appends: Sequence[Append]) -> None:
        barrier.wait()
        for item in appends:
            run(item)

    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        futures = [pool.submit(lane, appends) for appends in lanes]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def interleaved(
    name: str, ops: int, ledger: Callable[[int], float], baseline: Callable[[int], float]
) -> Result:
    """Alternate baseline and ledger over ROUNDS slices of the work; ops/s from summed times."""
    ledger_s = baseline_s = 0.0
    for round_ in range(ROUNDS):
        baseline_s += baseline(round_)
        ledger_s += ledger(round_)
    return Result(name, ops / ledger_s, ops / baseline_s)


def rounds(appends: Sequence[Append]) -> list[list[Append]]:
    size = -(-len(appends) // ROUNDS)
    return [list(appends[i : i + size]) for i in range(0, len(appends), size)]


def measure(target: Target, events_n: int, clients: int) -> list[Result]:
    fleet = Fleet()
    single_orders, setup = fleet.start_orders(20)
    batch_orders, more = fleet.start_orders(max(1, events_n * BATCHED // BATCH // 4))
    lane_orders = [fleet.start_orders(2) for _ in range(clients)]
    setup += more + [s for _, lane in lane_orders for s in lane]
    target.load(setup)
    target.load(fleet.heartbeats(single_orders, WARMUP_APPENDS, 1))
    target.load([fleet.new_run() for _ in range(WARMUP_APPENDS)])
    target.load(fleet.heartbeats(batch_orders, 2 * BATCH, BATCH))
    concurrent(
        lambda item: target.load([item]), [fleet.heartbeats(i, 3, 1) for i, _ in lane_orders]
    )

    def appends_of(name: str, work: Sequence[Append]) -> Result:
        slices = rounds(work)
        return interleaved(
            name,
            sum(len(item.rows) for item in work),
            lambda r: sequential(target.append, slices[r]),
            lambda r: sequential(target.insert_raw, slices[r]),
        )

    results = [
        appends_of("single appends: SignalEmitted", fleet.heartbeats(single_orders, events_n, 1)),
        appends_of("single appends: RunReceived", [fleet.new_run() for _ in range(events_n // 2)]),
        appends_of(
            f"batches of {BATCH}: SignalEmitted",
            fleet.heartbeats(batch_orders, events_n * BATCHED, BATCH),
        ),
    ]
    per_lane = events_n // clients
    lanes = [rounds(fleet.heartbeats(ids, per_lane, 1)) for ids, _ in lane_orders]
    by_round = [[lane[r] for lane in lanes] for r in range(ROUNDS)]

    def probed(r: int) -> float:
        target.probe.enabled = True
        try:
            return concurrent(target.append, by_round[r])
        finally:
            target.probe.enabled = False

    results.append(
        interleaved(
            f"{clients} clients, single appends",
            per_lane * clients,
            probed,
            lambda r: concurrent(target.insert_raw, by_round[r]),
        )
    )
    results.append(measure_rebuild(target.ledger))
    return results


def measure_rebuild(engine: Engine) -> Result:
    query = select(
        events.c.id,
        events.c.stream_id,
        events.c.version,
        events.c.type,
        events.c.data,
        events.c.recorded_at,
    ).order_by(events.c.position)

    def read_all() -> tuple[int, float]:
        started = time.perf_counter()
        with engine.connect() as connection:
            rows = sum(1 for _ in connection.execute(query.execution_options(yield_per=CHUNK)))
        return rows, time.perf_counter() - started

    read_all()  # warm the cache and the pool
    rows, read_s = read_all()
    started = time.perf_counter()
    replayed = rebuild(engine, snapshot_every=SNAPSHOT_EVERY)
    rebuild_s = time.perf_counter() - started
    return Result(f"rebuild ({replayed} events)", replayed / rebuild_s, rows / read_s)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def postgres_target(admin_url: str, clients: int) -> Iterator[tuple[Target, str]]:
    """Two fresh migrated databases, dropped on the way out whatever happened."""
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    token = uuid.uuid4().hex[:10]
    names = [f"ironclaw_bench_{token}_ledger", f"ironclaw_bench_{token}_floor"]
    engines: list[Engine] = []
    try:
        with admin.connect() as connection:
            server = str(connection.execute(text("SHOW server_version")).scalar())
            sync = str(connection.execute(text("SHOW synchronous_commit")).scalar())
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        for name in names:
            url = with_database(admin_url, name)
            upgrade_database(url)
            engines.append(create_db_engine(url, pool_size=max(10, clients)))
        yield Target(*engines), f"PostgreSQL {server}, synchronous_commit={sync}"
    finally:
        for engine in engines:
            engine.dispose()
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_target() -> Iterator[tuple[Target, str]]:
    with tempfile.TemporaryDirectory(prefix="ironclaw_bench_") as folder:
        engines: list[Engine] = []
        try:
            for name in ("ledger", "floor"):
                url = f"sqlite:///{Path(folder) / name}.db"
                upgrade_database(url)
                engines.append(create_db_engine(url))
            yield Target(*engines), "SQLite (WAL, synchronous=NORMAL) in a temp dir"
        finally:
            for engine in engines:
                engine.dispose()


def print_table(title: str, results: Sequence[Result]) -> None:
    width = max(len(r.name) for r in results)
    print(f"\n{title}")
    print(f"{'measurement':<{width}}  {'ledger ops/s':>12}  {'baseline ops/s':>14}  {'ratio':>6}")
    for r in results:
        print(f"{r.name:<{width}}  {r.ledger:>12,.0f}  {r.baseline:>14,.0f}  {r.ratio:>6.2f}")


def quiet_service_logging() -> None:
    """Log as the ledger service does (JSON lines at INFO), but into /dev/null, not the table."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - the loggers keep it for the whole run
    with redirect_stderr(sink):
        configure_logging("ledger")


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally` that drops the databases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("IRONCLAW_TEST_DATABASE_URL")
        or os.environ.get("IRONCLAW_DATABASE_URL")
        or DEFAULT_ADMIN_URL,
        help="admin URL of a Postgres server where databases may be created",
    )
    parser.add_argument("--events", type=int, default=2000, help="events per measurement")
    parser.add_argument("--clients", type=int, default=8, help="threads for the concurrent run")
    parser.add_argument("--sqlite", action="store_true", help="also measure on SQLite")
    args = parser.parse_args(argv)
    if args.events < BATCH * ROUNDS or not 1 <= args.clients <= args.events // ROUNDS:
        parser.error(f"need --events >= {BATCH * ROUNDS} and 1 <= --clients <= events/{ROUNDS}")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    quiet_service_logging()

    print(
        f"ledger append benchmark: {args.events} events per measurement "
        f"({args.events * BATCHED} for batches), {args.clients} clients"
    )
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs; workload: {WORKLOAD}")
    backends: list[Callable[[], AbstractContextManager[tuple[Target, str]]]] = [
        lambda: postgres_target(args.database_url, args.clients)
    ]
    if args.sqlite:
        backends.append(sqlite_target)
    started = time.perf_counter()
    for backend in backends:
        with backend() as (target, label):
            print_table(label, measure(target, args.events, args.clients))
            lock = target.probe.summary()
            if lock is not None:
                print(lock)
    print()
    for note in NOTES:
        print(f"- {note}")
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
