"""Watchdog cost and speed: patrol cycles over growing history, and SIGKILL to reissued claim.

    uv run python bench/patrol_scale.py [--database-url URL] [--redis-url URL]
                                        [--sizes 1000,10000,100000] [--active 100] [--issued 20]
                                        [--cycles 20] [--kills 3] [--only scale|kill]

Two measurements, each beside a baseline taken in the same run (only ratios mean anything on
these noisy machines):

1. Patrol cycle time. For each history size, a fresh PostgreSQL database gets that many settled
   Orders (integrated, failed, cancelled): their events bulk-inserted, the projections filled by
   the ledger's own `rebuild`. Then `--active` claimed/running Orders with fresh heartbeats (the
   running ones in real worktrees made by the vault) and `--issued` unclaimed ones. The ledger
   and the vault are served over HTTP on loopback ports (uvicorn threads of this process) and
   real cycles are timed through the real clients, the sizes taking turns: the duty officer's
   `DutyPatrol.cycle()` (with an enqueuer that only counts) and the observer's
   `Observer.patrol_theater()`. Baselines: the cycle at the smallest history (flatness: ~1.0
   means history costs nothing), and the raw SQL of the patrol's own status reads (the ledger's
   query, compiled, plus the attempts rows), also per size. EXPLAIN ANALYZE of the status query
   at the largest size shows the index used.
2. Time from a SIGKILL of the worker (its whole process group, mid-engine) to the reissued
   attempt's `OrderClaimed`, on the fleet as real processes (ledger, relay, vault, gateway, co,
   worker, integration, observer, duty) on PostgreSQL and Redis, with short patrol intervals and
   a 5 s heartbeat timeout; a fresh worker is started right after the kill. Baseline: the same
   Order's first `OrderIssued` to its `OrderClaimed`.

The script creates and drops its own databases (`ironclaw_bench_patrol_*`) and uses one Redis
database (default 14), which it empties first.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager, redirect_stderr
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import Connection, Dialect, bindparam, create_engine, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests" / "support")]

from fleet import Fleet, fleet_environment, script  # noqa: E402
from openai_server import free_port, serve  # noqa: E402

from ironclaw.contracts import events as ev  # noqa: E402
from ironclaw.contracts.api import AppendRequest, TheaterView, WorktreeRequest  # noqa: E402
from ironclaw.contracts.clients.ledger import LedgerClient  # noqa: E402
from ironclaw.contracts.clients.vault import VaultClient  # noqa: E402
from ironclaw.contracts.ids import new_id  # noqa: E402
from ironclaw.contracts.kit.logging import configure_logging  # noqa: E402
from ironclaw.contracts.models import AfterActionReport, OrderBudget  # noqa: E402
from ironclaw.contracts.tasks import (  # noqa: E402
    DeliverReply,
    ExecuteOrder,
    OrderSettled,
    PlanRun,
)
from ironclaw.duty.domain.patrol import DutyPatrol, PatrolPolicy  # noqa: E402
from ironclaw.ledger.adapters.database import (  # noqa: E402
    create_db_engine,
    normalise_url,
    write_transaction,
)
from ironclaw.ledger.adapters.migrate import upgrade_database  # noqa: E402
from ironclaw.ledger.adapters.rebuild import rebuild  # noqa: E402
from ironclaw.ledger.adapters.tables import events, orders  # noqa: E402
from ironclaw.ledger.app import create_app as create_ledger_app  # noqa: E402
from ironclaw.ledger.config import Settings as LedgerSettings  # noqa: E402
from ironclaw.observer.domain.patrol import Observer  # noqa: E402
from ironclaw.vault.app import create_app as create_vault_app  # noqa: E402
from ironclaw.vault.config import Settings as VaultSettings  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
THEATER = "default"
SEED_BATCH = 500  # streams per insert transaction
ACTIVE_TIMEOUT_S = 3600  # heartbeat and claim timeouts, leases of the active Orders
ORDERS_PER_RUN = 4
WARMUP_CYCLES = 3
# Of every ten settled Orders: seven integrated, two failed, one cancelled.
FATES = ("integrated",) * 7 + ("failed",) * 2 + ("cancelled",)
RUNNING_SHARE = 0.75  # of the active Orders: running in a worktree; the rest only claimed

# The status reads of each patrol, as the ledger's views run them (`GET /orders?status=...`).
DUTY_READS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("issued",), None),
    (("claimed", "running"), None),
    (("completed",), None),
)
OBSERVER_READS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("claimed", "running"), THEATER),
    (("completed",), THEATER),
)
PAGE = 1000  # the patrols' page size

# The kill measurement's timings (printed next to its figures).
HEARTBEAT_TIMEOUT_S = 5  # the Order budget's minimum; the worker's lease_s is the same
LEASE_GRACE_S = 1.0
PATROL_INTERVAL_S = 1.0
BACKOFF_BASE_S = 1.0
RUNNING_BEFORE_KILL_S = 1.0
# Attempt 1 waits until its worker dies (its parent goes) or 300 s pass; later attempts end at
# once, so the run completes. The engine runs it in a process group of its own, which a kill of
# the worker's group does not reach: watching the parent keeps it from outliving the bench.
SLEEPER = textwrap.dedent(
    """
    import os, time
    if os.path.basename(os.getcwd()).rsplit("-", 1)[-1] == "1":
        parent, deadline = os.getppid(), time.monotonic() + 300
        while os.getppid() == parent and time.monotonic() < deadline:
            time.sleep(0.2)
    """
)


def with_database(admin_url: str, name: str) -> str:
    return make_url(normalise_url(admin_url)).set(database=name).render_as_string(False)


@contextmanager
def fresh_database(admin_url: str, label: str) -> Iterator[str]:
    """A migrated database `ironclaw_bench_patrol_<label>_<random>`, dropped afterwards."""
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"ironclaw_bench_patrol_{label}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(admin_url, name)
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- 1. patrol cycles over growing history ------------------------------------------------------


def settled_order(spec: ev.PlannedOrder, run_id: str, fate: str) -> list[ev.EventPayload]:
    """The life of one settled Order, as the worker, integration and co leave it."""
    order_id = spec.order_id
    life: list[ev.EventPayload] = [
        ev.OrderPlanned(order_id=order_id, run_id=run_id, theater=THEATER, spec=spec),
        ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
    ]
    if fate == "cancelled":
        return [*life, ev.OrderCancelled(order_id=order_id, run_id=run_id)]
    life += [
        ev.OrderClaimed(order_id=order_id, run_id=run_id, attempt=1, worker_id="w-1", lease_s=60),
        ev.AttemptStarted(
            order_id=order_id,
            run_id=run_id,
            attempt=1,
            branch=f"ironclaw/{order_id}/1",
            worktree=f"/var/ironclaw/worktrees/{THEATER}/{order_id}-1",
            base_commit="a" * 40,
            engine="command",
        ),
        ev.SignalEmitted(order_id=order_id, attempt=1, progress=0.5, note="running tests"),
    ]
    if fate == "failed":
        return [
            *life,
            ev.OrderFailed(order_id=order_id, run_id=run_id, attempt=1, reason="tests failed"),
        ]
    commits = ["b" * 40]
    return [
        *life,
        ev.OrderCompleted(
            order_id=order_id,
            run_id=run_id,
            attempt=1,
            branch=f"ironclaw/{order_id}/1",
            commits=commits,
            aar=AfterActionReport(outcome="completed", summary="added the test", commits=commits),
        ),
        ev.IntegrationStarted(order_id=order_id, run_id=run_id, attempt=1),
        ev.Integrated(
            order_id=order_id, run_id=run_id, attempt=1, theater=THEATER, merged_commit="c" * 40
        ),
    ]


def settled_run(first: int, count: int) -> list[AppendRequest]:
    """One settled Run of `count` Orders: its opening, its Orders' lives, its settlement."""
    run_id = new_id("run")
    fates = [FATES[(first + n) % len(FATES)] for n in range(count)]
    specs = [
        ev.PlannedOrder(order_id=new_id("ord"), key=f"step-{n}", objective="add a parser test")
        for n in range(count)
    ]
    opened: list[ev.EventPayload] = [
        ev.RunReceived(run_id=run_id, theater=THEATER, message="add tests for the parser"),
        ev.RunPlanned(run_id=run_id, planner="playbook:chore", orders=specs),
    ]
    closed: ev.EventPayload
    if "cancelled" in fates:
        closed = ev.RunCancelled(run_id=run_id)
    elif "failed" in fates:
        closed = ev.RunFailed(run_id=run_id, reason="an order failed")
    else:
        closed = ev.RunCompleted(run_id=run_id, response="done")
    return [
        request(run_id, 0, opened),
        *(
            request(spec.order_id, 0, settled_order(spec, run_id, fate))
            for spec, fate in zip(specs, fates, strict=True)
        ),
        request(run_id, len(opened), [closed]),
    ]


def request(stream_id: str, expected: int, payloads: Sequence[ev.EventPayload]) -> AppendRequest:
    return AppendRequest(
        stream_id=stream_id,
        expected_version=expected,
        events=[ev.NewEvent.of(p) for p in payloads],
    )


def event_rows(requests: Sequence[AppendRequest], recorded_at: datetime) -> list[dict[str, Any]]:
    """The `events` rows an append of `requests` stores (positions left to the database)."""
    return [
        {
            "id": event.id,
            "stream_id": r.stream_id,
            "version": (r.expected_version or 0) + offset,
            "type": event.type,
            "data": event.data,
            "metadata": event.metadata.model_dump(mode="json"),
            "recorded_at": recorded_at,
        }
        for r in requests
        for offset, event in enumerate(r.events, start=1)
    ]


@dataclass(frozen=True)
class Seeded:
    events: int
    insert_s: float
    rebuild_s: float


def seed_history(url: str, settled: int) -> Seeded:
    """`settled` settled Orders: their events bulk-inserted, then the ledger's own `rebuild`.

    Rebuild runs every event through the projector the appends use (a property test holds the
    two equal), about five times faster than appending here. Then ANALYZE, as autovacuum would
    after so many rows (the server these benches run on may have it off).
    """
    engine = create_db_engine(url)
    recorded_at = datetime.now(UTC) - timedelta(days=1)
    try:
        started = time.perf_counter()
        inserted = 0
        batch: list[AppendRequest] = []
        for first in range(0, settled, ORDERS_PER_RUN):
            batch += settled_run(first, min(ORDERS_PER_RUN, settled - first))
            if len(batch) >= SEED_BATCH or first + ORDERS_PER_RUN >= settled:
                rows = event_rows(batch, recorded_at)
                with write_transaction(engine) as connection:
                    connection.execute(insert(events), rows)
                inserted += len(rows)
                batch = []
        inserted_s = time.perf_counter() - started
        rebuild(engine, snapshot_every=LedgerSettings().snapshot_every)
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
        return Seeded(inserted, inserted_s, time.perf_counter() - started - inserted_s)
    finally:
        engine.dispose()


def start_active(
    ledger: LedgerClient, vault: VaultClient, active: int, issued: int
) -> dict[str, int]:
    """`active` claimed/running Orders with fresh heartbeats and `issued` unclaimed ones.

    Their budgets and leases last an hour, so none goes stale while the sizes take turns: the
    cycles measure patrolling, not acting (a fresh Order is checked the same way).
    """
    running = round(active * RUNNING_SHARE)
    kinds = ["running"] * running + ["claimed"] * (active - running) + ["issued"] * issued
    budget = OrderBudget(heartbeat_timeout_s=ACTIVE_TIMEOUT_S, claim_timeout_s=ACTIVE_TIMEOUT_S)
    for first in range(0, len(kinds), ORDERS_PER_RUN):
        run_id = new_id("run")
        group = kinds[first : first + ORDERS_PER_RUN]
        specs = [
            ev.PlannedOrder(
                order_id=new_id("ord"), key=f"step-{n}", objective="fix the bug", budget=budget
            )
            for n in range(len(group))
        ]
        opened: list[ev.EventPayload] = [
            ev.RunReceived(run_id=run_id, theater=THEATER, message="fix the parser bug"),
            ev.RunPlanned(run_id=run_id, planner="playbook:bugfix", orders=specs),
        ]
        ledger.append(run_id, opened, expected_version=0)
        for spec, kind in zip(specs, group, strict=True):
            ledger.append(
                spec.order_id, active_order(vault, run_id, spec, kind), expected_version=0
            )
    return {kind: kinds.count(kind) for kind in ("running", "claimed", "issued")}


def active_order(
    vault: VaultClient, run_id: str, spec: ev.PlannedOrder, kind: str
) -> list[ev.EventPayload]:
    """An Order issued, claimed, or running in a real worktree with a fresh heartbeat."""
    order_id = spec.order_id
    life: list[ev.EventPayload] = [
        ev.OrderPlanned(order_id=order_id, run_id=run_id, theater=THEATER, spec=spec),
        ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
    ]
    if kind == "issued":
        return life
    life.append(
        ev.OrderClaimed(
            order_id=order_id,
            run_id=run_id,
            attempt=1,
            worker_id="w-1",
            lease_s=ACTIVE_TIMEOUT_S,
        )
    )
    if kind == "claimed":
        return life
    worktree = vault.create_worktree(
        WorktreeRequest(
            theater=THEATER, order_id=order_id, run_id=run_id, attempt=1, task_md="# fix it\n"
        )
    )
    return [
        *life,
        ev.AttemptStarted(
            order_id=order_id,
            run_id=run_id,
            attempt=1,
            branch=worktree.branch,
            worktree=worktree.path,
            base_commit=worktree.base_commit,
            engine="command",
        ),
        ev.SignalEmitted(
            order_id=order_id, attempt=1, progress=0.3, note="testing", lease_s=ACTIVE_TIMEOUT_S
        ),
    ]


class CountingEnqueuer:
    """The duty officer's broker port, counting what it would have sent."""

    def __init__(self) -> None:
        self.sent = 0

    def execute_order(self, task: ExecuteOrder) -> None:
        self.sent += 1

    def plan_run(self, task: PlanRun) -> None:
        self.sent += 1

    def order_settled(self, task: OrderSettled) -> None:
        self.sent += 1

    def deliver_reply(self, task: DeliverReply) -> None:
        self.sent += 1


class RequestCounter:
    """An httpx request hook counting a patrol's requests to the ledger and the vault."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, request: httpx.Request) -> None:
        self.count += 1

    def client(self, base_url: str) -> httpx.Client:
        return httpx.Client(base_url=base_url, timeout=30.0, event_hooks={"request": [self]})


Reads = Sequence[tuple[tuple[str, ...], str | None]]


def status_query(dialect: Dialect, statuses: Sequence[str], theater: str | None) -> str:
    """The SQL the ledger's views run for one page of `GET /orders?status=...`, compiled."""
    query = select(orders).order_by(orders.c.order_id).limit(PAGE)
    query = query.where(orders.c.status.in_(list(statuses)))
    if theater:
        query = query.where(orders.c.theater == theater)
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


ATTEMPTS_OF = text("SELECT * FROM attempts WHERE order_id IN :ids ORDER BY attempt").bindparams(
    bindparam("ids", expanding=True)
)


def raw_reads(connection: Connection, reads: Reads) -> None:
    """The patrol's status reads as raw SQL: each page of Orders, then its attempts rows."""
    for statuses, theater in reads:
        sql = status_query(connection.dialect, statuses, theater)
        ids = [row.order_id for row in connection.execute(text(sql)).all()]
        if ids:
            connection.execute(ATTEMPTS_OF, {"ids": ids}).all()
    connection.rollback()  # end the implicit transaction, as each ledger read does


@dataclass
class Size:
    """One history size, ready to patrol: its served ledger and vault, patrols and raw reads."""

    settled: int
    seeded: Seeded
    active: dict[str, int]
    duty: DutyPatrol
    observer: Observer
    theater: TheaterView
    enqueuer: CountingEnqueuer
    requests: dict[str, RequestCounter]
    raw: Connection
    samples: dict[str, list[float]] = field(default_factory=dict)
    saw: dict[str, dict[str, int]] = field(default_factory=dict)
    acted: int = 0  # actions the patrols took (0 expected: every active Order is fresh)
    requests_per_cycle: dict[str, int] = field(default_factory=dict)  # in the last cycle

    def p50(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def cycle(self, timed: bool) -> None:
        """One turn: the raw reads, then a real cycle of each patrol, each timed."""
        times = {
            "raw duty": seconds(lambda: raw_reads(self.raw, DUTY_READS)),
            "raw observer": seconds(lambda: raw_reads(self.raw, OBSERVER_READS)),
        }
        sent = {name: counter.count for name, counter in self.requests.items()}
        started = time.perf_counter()
        duty_done = self.duty.cycle()
        times["duty"] = time.perf_counter() - started
        started = time.perf_counter()
        observer_done = self.observer.patrol_theater(self.theater)
        times["observer"] = time.perf_counter() - started
        for name, counter in self.requests.items():
            self.requests_per_cycle[name] = counter.count - sent[name]
        self.acted += len(duty_done.did) + len(observer_done.did)
        self.saw = {"duty": duty_done.saw, "observer": observer_done.saw}
        if timed:
            for name, value in times.items():
                self.samples.setdefault(name, []).append(value)


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def prepare_size(stack: ExitStack, admin_url: str, settled: int, args: argparse.Namespace) -> Size:
    """A fresh database with `settled` Orders of history and the active Orders; served."""
    url = stack.enter_context(fresh_database(admin_url, f"{settled}"))
    home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ironclaw_bench_")))
    ledger_url = stack.enter_context(serve(create_ledger_app(LedgerSettings(database_url=url))))
    vault_settings = VaultSettings(home=home, ledger_url=ledger_url, internal_token=None)
    vault_url = stack.enter_context(serve(create_vault_app(vault_settings)))
    requests = {"duty": RequestCounter(), "observer": RequestCounter()}
    ledger = stack.enter_context(closing(LedgerClient(ledger_url, retry_for_s=5)))
    duty_ledger = stack.enter_context(
        closing(LedgerClient(ledger_url, http=requests["duty"].client(ledger_url)))
    )
    observer_ledger = stack.enter_context(
        closing(LedgerClient(ledger_url, http=requests["observer"].client(ledger_url)))
    )
    observer_vault = stack.enter_context(
        closing(VaultClient(vault_url, http=requests["observer"].client(vault_url)))
    )
    vault = stack.enter_context(closing(VaultClient(vault_url, retry_for_s=5)))
    vault.ensure_default_theater()

    print(f"  {settled:,} settled Orders: seeding ...", end="", flush=True)
    seeded = seed_history(url, settled)
    print(
        f" {seeded.events:,} events inserted in {seeded.insert_s:.0f} s, rebuilt in "
        f"{seeded.rebuild_s:.0f} s; active Orders ...",
        end="",
        flush=True,
    )
    active = start_active(ledger, vault, args.active, args.issued)
    print(" ready", flush=True)
    enqueuer = CountingEnqueuer()
    raw_engine = create_engine(normalise_url(url))
    stack.callback(raw_engine.dispose)
    return Size(
        settled=settled,
        seeded=seeded,
        active=active,
        duty=DutyPatrol(duty_ledger, enqueuer, PatrolPolicy(limit=PAGE), holder="bench:duty"),
        observer=Observer(
            ledger=observer_ledger, vault=observer_vault, home=home, holder="bench:observer"
        ),
        theater=ledger.get_theater(THEATER),
        enqueuer=enqueuer,
        requests=requests,
        raw=stack.enter_context(raw_engine.connect()),
    )


@dataclass(frozen=True)
class ScaleResult:
    sizes: list[Size]
    explain: list[tuple[str, str]]
    load: tuple[float, float]  # the 1-minute load average before and after the timed cycles


def measure_scale(args: argparse.Namespace) -> ScaleResult:
    with ExitStack() as stack:
        sizes = [prepare_size(stack, args.database_url, n, args) for n in args.sizes]
        print(f"  timing: {WARMUP_CYCLES} + {args.cycles} turns of every size ...", flush=True)
        load_before = os.getloadavg()[0]
        for turn in range(WARMUP_CYCLES + args.cycles):
            # Sizes take turns, so the machine's drift hits each alike.
            for size in sizes if turn % 2 else reversed(sizes):
                size.cycle(timed=turn >= WARMUP_CYCLES)
        load_after = os.getloadavg()[0]
        for size in sizes:
            size.acted += size.enqueuer.sent
        largest = sizes[-1]
        explain = [
            (label, explain_analyze(largest.raw, sql))
            for label, sql in (
                ("duty: claimed + running", status_query(largest.raw.dialect, *DUTY_READS[1])),
                (
                    "observer: claimed + running in the theater",
                    status_query(largest.raw.dialect, *OBSERVER_READS[0]),
                ),
            )
        ]
        return ScaleResult(sizes, explain, (load_before, load_after))


def explain_analyze(connection: Connection, sql: str) -> str:
    rows = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")).all()
    connection.rollback()
    return "\n".join(f"    {row[0]}" for row in rows)


def report_scale(result: ScaleResult, args: argparse.Namespace) -> None:
    sizes = result.sizes
    base = sizes[0]
    print(
        f"\npatrol cycle, median of {args.cycles} per size (after {WARMUP_CYCLES} warm-up; the "
        "sizes take turns); PostgreSQL; ledger and vault over HTTP on loopback (uvicorn threads "
        "of this process)"
    )
    print(
        f"{'settled Orders':>14}  {'patrol':<8}  {'cycle p50':>10}  {'vs 1st size':>11}  "
        f"{'raw SQL p50':>11}  {'raw vs 1st':>10}  {'cycle / raw@1st':>15}  {'requests':>8}"
    )
    for size in sizes:
        for patrol in ("duty", "observer"):
            cycle, raw = size.p50(patrol), size.p50(f"raw {patrol}")
            base_cycle, base_raw = base.p50(patrol), base.p50(f"raw {patrol}")
            print(
                f"{size.settled:>14,}  {patrol:<8}  {cycle * 1000:>7.1f} ms  "
                f"{cycle / base_cycle:>11.2f}  {raw * 1000:>8.2f} ms  {raw / base_raw:>10.2f}  "
                f"{cycle / base_raw:>15.1f}  {size.requests_per_cycle[patrol]:>8}"
            )
    last = sizes[-1]
    print(f"\nactive Orders in every size: {last.active}")
    print(f"the last cycle at {last.settled:,} saw: duty {last.saw['duty']}")
    print(f"  observer {last.saw['observer']}")
    acted = sum(size.acted for size in sizes)
    print(f"actions the patrols took over all cycles: {acted} (0 expected: all fresh)")
    print(
        "history: "
        + "; ".join(
            f"{s.settled:,} Orders = {s.seeded.events:,} events "
            f"({s.seeded.insert_s:.0f} s insert + {s.seeded.rebuild_s:.0f} s rebuild)"
            for s in sizes
        )
    )
    print(
        f"load average (1 min): {result.load[0]:.1f} before the timed cycles, "
        f"{result.load[1]:.1f} after"
    )
    print(f"\nEXPLAIN ANALYZE of the status query at {last.settled:,} settled Orders:")
    for label, plan in result.explain:
        print(f"  {label}:\n{plan}")
    for note in SCALE_NOTES:
        print(f"- {note}")


SCALE_NOTES = (
    "cycle = DutyPatrol.cycle() (every status read through the ledger client, PatrolCompleted "
    "appended; its enqueuer only counts) and Observer.patrol_theater() (stalls, loops, orphan "
    "scan of the worktree folder, completion checks, PatrolCompleted), as the services run them",
    "raw SQL = the patrol's Order status reads only (duty: issued; claimed+running; completed — "
    "observer: the same in its theater, without issued), the ledger's own query compiled, plus "
    "the attempts rows of each page, on one open connection: no HTTP, no JSON, no models",
    "vs 1st size = cycle / the same patrol's cycle at the smallest history: ~1.0 means flat",
    "requests = HTTP requests one cycle sent to the ledger and the vault (the last cycle)",
)


# --- 2. SIGKILL to the reissued attempt's claim ------------------------------------------------

# The watchdogs' settings for this measurement, on top of the fleet's environment.
PATROL_ENV = {
    "IRONCLAW_PATROL_INTERVAL_S": str(PATROL_INTERVAL_S),
    "IRONCLAW_EXPIRED_LEASE_GRACE_S": str(LEASE_GRACE_S),
    "IRONCLAW_BACKOFF_BASE_S": str(BACKOFF_BASE_S),
}
# Started by `Fleet.start`; the patrols are started here (name, console script, command).
FLEET = ("ledger", "relay", "vault", "gateway", "co", "worker", "integration")
PATROLS = (("observer", "ironclaw-observer", "patrol"), ("duty", "ironclaw-duty", "patrol"))


def start_patrol(fleet: Fleet, name: str, console: str, command: str) -> None:
    """Start a patrol process in the fleet (stopped with it), with the bench's timings."""
    fleet.ports[name] = free_port()
    env = {**fleet.env, **PATROL_ENV, "IRONCLAW_HTTP_PORT": str(fleet.ports[name])}
    log = open(fleet.home / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    fleet.processes[name] = subprocess.Popen(
        [script(console), command],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    fleet.wait_healthy(name)


@dataclass(frozen=True)
class KillSample:
    """One Order's way through a SIGKILL of its worker, from the ledger's timestamps."""

    issued_to_claimed_s: float  # baseline: OrderIssued of attempt 1 to its OrderClaimed
    signal_to_kill_s: float  # the attempt's last heartbeat before the kill
    kill_to_reissued_s: float  # detection: the watchdogs' verdict and the reissue
    reissued_to_claimed_s: float  # dispatch: outbox, relay, broker, the fresh worker's claim
    kill_to_claimed_s: float
    worker_up_s: float  # the fresh worker answering /health (its Celery consumer may lag)
    reason: str  # why the duty officer reissued (lease_expired or recovery_required)
    run_status: str


def first(
    events: Sequence[ev.StoredEvent], kind: type[ev.EventPayload], attempt: int
) -> ev.StoredEvent | None:
    return next(
        (e for e in events if e.type == kind.event_type and e.data.get("attempt") == attempt),
        None,
    )


def wait_for(probe: Callable[[], Any], timeout_s: float, what: str, fleet: Fleet) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}\n{fleet.logs()}")


def one_kill(fleet: Fleet, ledger: LedgerClient, sleeper: Path) -> KillSample:
    order = {
        "key": "sleeper",
        "objective": "run until the worker is killed",
        "commands": [f"{sys.executable} {sleeper}"],
        "budget": {"heartbeat_timeout_s": HEARTBEAT_TIMEOUT_S},
    }
    answer = fleet.post("/runs", {"message": "benchmark: kill my worker", "orders": [order]})
    answer.raise_for_status()
    run_id = answer.json()["run_id"]

    def order_id() -> str | None:
        listed = fleet.get(f"/runs/{run_id}").json().get("orders") or []
        return str(listed[0]["order_id"]) if listed else None

    order_id_ = str(wait_for(order_id, 60, "the order to be planned", fleet))

    def stream() -> list[ev.StoredEvent]:
        return ledger.read_stream(order_id_).events

    def signalled() -> bool:
        current = stream()
        started = first(current, ev.AttemptStarted, 1)
        return started is not None and any(
            e.type == ev.SignalEmitted.event_type and e.position > started.position for e in current
        )

    wait_for(signalled, 60, "attempt 1 to run its engine", fleet)
    time.sleep(RUNNING_BEFORE_KILL_S)
    killed_at = datetime.now(UTC)
    fleet.kill("worker")  # SIGKILL to the worker's process group: the Celery pool child too
    fleet.start("worker")
    worker_up_s = (datetime.now(UTC) - killed_at).total_seconds()
    seen = wait_for(
        lambda: (e := stream()) and first(e, ev.OrderClaimed, 2) and e,
        120,
        "attempt 2 to be claimed",
        fleet,
    )
    run = fleet.wait_for_run(run_id, timeout_s=120)
    issued1, claimed1 = first(seen, ev.OrderIssued, 1), first(seen, ev.OrderClaimed, 1)
    issued2, claimed2 = first(seen, ev.OrderIssued, 2), first(seen, ev.OrderClaimed, 2)
    if not (issued1 and claimed1 and issued2 and claimed2):
        raise RuntimeError(f"order {order_id_} lacks an issue or claim of attempt 1 or 2")
    beats = [
        e for e in seen if e.type == ev.SignalEmitted.event_type and e.recorded_at <= killed_at
    ]
    return KillSample(
        issued_to_claimed_s=(claimed1.recorded_at - issued1.recorded_at).total_seconds(),
        signal_to_kill_s=(killed_at - beats[-1].recorded_at).total_seconds() if beats else 0.0,
        kill_to_reissued_s=(issued2.recorded_at - killed_at).total_seconds(),
        reissued_to_claimed_s=(claimed2.recorded_at - issued2.recorded_at).total_seconds(),
        kill_to_claimed_s=(claimed2.recorded_at - killed_at).total_seconds(),
        worker_up_s=worker_up_s,
        reason=str(issued2.data.get("reason")),
        run_status=str(run.status),
    )


def measure_kills(args: argparse.Namespace) -> list[KillSample]:
    redis.Redis.from_url(args.redis_url).flushdb()
    with (
        tempfile.TemporaryDirectory(prefix="ironclaw_bench_") as scratch,
        fresh_database(args.database_url, "kill") as url,
    ):
        home = Path(scratch) / "home"
        home.mkdir()
        sleeper = Path(scratch) / "sleeper.py"
        sleeper.write_text(SLEEPER)
        env, ports = fleet_environment(home, url, args.redis_url, None)
        fleet = Fleet(home=home, env=env, ports=ports)
        try:
            print(f"starting {len(FLEET) + len(PATROLS)} processes ...", flush=True)
            for name in FLEET:
                fleet.start(name)
            for patrol in PATROLS:
                start_patrol(fleet, *patrol)
            samples = []
            with closing(fleet.ledger) as ledger:
                for n in range(args.kills):
                    samples.append(one_kill(fleet, ledger, sleeper))
                    print(
                        f"  kill {n + 1}: claimed again {samples[-1].kill_to_claimed_s:.1f} s "
                        "after the SIGKILL",
                        flush=True,
                    )
        finally:
            fleet.stop()
    return samples


def report_kills(samples: Sequence[KillSample]) -> None:
    def median(pick: Callable[[KillSample], float]) -> float:
        return statistics.median(pick(s) for s in samples)

    total = median(lambda s: s.kill_to_claimed_s)
    baseline = median(lambda s: s.issued_to_claimed_s)
    print(
        "\nSIGKILL of the worker mid-engine to the reissued attempt's claim, "
        f"median of {len(samples)}"
    )
    print(
        f"settings: heartbeat timeout {HEARTBEAT_TIMEOUT_S} s (= the worker's lease), lease grace "
        f"{LEASE_GRACE_S:g} s, observer + duty patrol interval {PATROL_INTERVAL_S:g} s, backoff "
        f"base {BACKOFF_BASE_S:g} s; a fresh worker started right after the kill"
    )
    rows = (
        ("last heartbeat -> SIGKILL", median(lambda s: s.signal_to_kill_s)),
        ("SIGKILL -> OrderIssued #2 (detect + reissue)", median(lambda s: s.kill_to_reissued_s)),
        ("OrderIssued #2 -> OrderClaimed #2 (dispatch)", median(lambda s: s.reissued_to_claimed_s)),
        ("SIGKILL -> fresh worker answers /health", median(lambda s: s.worker_up_s)),
        ("SIGKILL -> OrderClaimed #2", total),
        ("baseline: OrderIssued #1 -> OrderClaimed #1", baseline),
    )
    for label, value in rows:
        print(f"  {label:<46} {value:>7.2f} s")
    age = median(lambda s: s.signal_to_kill_s)
    print(
        f"  ratio SIGKILL -> claim / baseline: {total / baseline:.1f}. Floors after the kill: "
        f"observer path (stale heartbeat and a still worktree) timeout - heartbeat age = "
        f"{HEARTBEAT_TIMEOUT_S - age:.2f} s, + up to one observer interval, + up to one duty "
        f"interval to reissue; lease path timeout + grace - age = "
        f"{HEARTBEAT_TIMEOUT_S + LEASE_GRACE_S - age:.2f} s, + up to one duty interval"
    )
    print(
        "  reissued because: "
        + ", ".join(s.reason for s in samples)
        + "; runs ended: "
        + ", ".join(s.run_status for s in samples)
    )


# --- the command line ---------------------------------------------------------------------------


def quiet_service_logging() -> None:
    """Log as the services do (JSON lines at INFO), but into /dev/null, not the table."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - the loggers keep it for the whole run
    with redirect_stderr(sink):
        configure_logging("bench")


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally` that drops the databases


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("IRONCLAW_TEST_DATABASE_URL") or DEFAULT_ADMIN_URL,
        help="admin URL of a PostgreSQL server where databases may be created",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="emptied first")
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000",
        type=lambda value: [int(size) for size in value.split(",")],
        help="settled Orders of history, comma-separated; the first is the baseline",
    )
    parser.add_argument("--active", type=int, default=100, help="claimed/running Orders")
    parser.add_argument("--issued", type=int, default=20, help="issued, unclaimed Orders")
    parser.add_argument("--cycles", type=int, default=20, help="timed cycles per size")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILL repetitions")
    parser.add_argument("--only", choices=("scale", "kill"), help="run one of the two parts")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    quiet_service_logging()
    print(f"patrol benchmark; python {platform.python_version()}, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    if args.only != "kill":
        print(f"1. patrol cycles: {args.active} active + {args.issued} issued Orders over history")
        report_scale(measure_scale(args), args)
    if args.only != "scale":
        print("\n2. SIGKILL to reissued claim")
        report_kills(measure_kills(args))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
