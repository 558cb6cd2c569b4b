"""Whole-path overhead: a one-Order run whose `command` engine does nothing, request to completed.

    uv run python bench/e2e_overhead.py [--database-url URL] [--redis-url URL] [--runs N]
                                        [--concurrent C]

It starts the fleet as real processes (ledger, relay, vault, gateway, co, worker, integration) on
PostgreSQL and Redis, and measures:
- latency: `POST /runs` with one `command` Order (`true`) and `wait_s`, until the run is
  `completed`; p50 and p95;
- the floor, measured in the same run: the raw git operations the path needs (worktree add,
  status, rev-list, rebase, worktree remove), one raw Celery round trip through the same Redis,
  and as many raw single-row ledger INSERTs (one transaction each) as the run appends events;
- throughput: C runs submitted at once, runs per second until all are settled.
Only ratios are meaningful on these noisy machines. The script creates and drops its own
databases and uses one Redis database (default 13), which it empties first.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis
from celery import Celery
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "e2e"), str(ROOT / "tests" / "support")]

from fleet import SERVICES, Fleet, fleet_environment  # noqa: E402

from ironclaw.contracts.ids import new_id  # noqa: E402
from ironclaw.contracts.kit.celery import publisher_config  # noqa: E402
from ironclaw.contracts.kit.git import git  # noqa: E402
from ironclaw.ledger.adapters.database import create_db_engine, normalise_url  # noqa: E402
from ironclaw.ledger.adapters.migrate import upgrade_database  # noqa: E402
from ironclaw.ledger.adapters.tables import events  # noqa: E402

NOOP_RUN = {
    "message": "benchmark: do nothing",
    "orders": [{"key": "noop", "objective": "nothing", "commands": ["true"]}],
}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"ironclaw_bench_e2e_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(admin_url)).set(database=name).render_as_string(False)
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_latency(fleet: Fleet) -> float:
    started = time.perf_counter()
    answer = fleet.post("/runs", {**NOOP_RUN, "wait_s": 60})
    elapsed = time.perf_counter() - started
    if answer.status_code != 200 or answer.json()["status"] != "completed":
        raise RuntimeError(f"the run did not complete: {answer.status_code} {answer.text}")
    return elapsed


def throughput(fleet: Fleet, runs: int) -> float:
    started = time.perf_counter()

    def one(_: int) -> None:
        run_id = fleet.post("/runs", NOOP_RUN).json()["run_id"]
        fleet.wait_for_run(run_id, timeout_s=600)

    with ThreadPoolExecutor(runs) as pool:
        list(pool.map(one, range(runs)))
    return runs / (time.perf_counter() - started)


def git_floor(work: Path) -> float:
    """The git operations one attempt needs, on a bare repository like a theater's."""
    repo = work / f"theater-{uuid.uuid4().hex[:6]}"
    git(work, "init", "--bare", "-b", "main", str(repo))
    empty_tree = git(repo, "hash-object", "-t", "tree", "-w", "/dev/null")
    git(repo, "update-ref", "refs/heads/main", git(repo, "commit-tree", empty_tree, "-m", "init"))
    tree = work / f"wt-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    git(repo, "worktree", "add", "-b", "ironclaw/bench/1", str(tree), "main")
    git(tree, "status", "--porcelain")
    git(tree, "rev-list", "main..HEAD")
    git(tree, "rebase", "main")
    git(repo, "worktree", "remove", "--force", str(tree))
    return time.perf_counter() - started


@contextmanager
def celery_floor(broker_url: str, work: Path) -> Iterator[Callable[[], float]]:
    """One raw Celery round trip: send a task by name, a real worker process acknowledges it."""
    module = work / "bench_ping.py"
    module.write_text(
        textwrap.dedent(
            f"""
            import redis
            from ironclaw.contracts.kit.celery import create_celery_app
            app = create_celery_app("bench", {broker_url!r}, "bench")
            store = redis.Redis.from_url({broker_url!r})

            @app.task(name="bench.ping")
            def ping(payload):
                store.set("bench:" + payload["id"], "1")
            """
        )
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench_ping", "worker", "-Q", "bench", "-P", "solo"],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sender = Celery("bench-sender", broker=broker_url, set_as_current=False)
    sender.conf.update(publisher_config(broker_url))
    store = redis.Redis.from_url(broker_url)

    def round_trip() -> float:
        token = uuid.uuid4().hex
        started = time.perf_counter()
        sender.send_task("bench.ping", kwargs={"payload": {"id": token}}, queue="bench")
        while not store.get(f"bench:{token}"):
            if time.perf_counter() - started > 60:
                raise RuntimeError("the Celery round trip did not complete")
            time.sleep(0.0005)
        return time.perf_counter() - started

    try:
        round_trip()  # the worker is up once it answers
        yield round_trip
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        sender.close()


def insert_floor(url: str, rows: int) -> float:
    """`rows` raw single-row INSERTs into a migrated events table, one transaction each."""
    engine = create_db_engine(url)
    stream = f"patrol-bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    for version in range(1, rows + 1):
        with engine.begin() as connection:
            connection.execute(
                insert(events),
                {
                    "id": new_id("evt"),
                    "stream_id": stream,
                    "version": version,
                    "type": "PatrolCompleted",
                    "data": {"scope": "bench"},
                    "metadata": {},
                    "recorded_at": datetime.now(UTC),
                },
            )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def events_per_run(fleet: Fleet) -> int:
    run_id = fleet.post("/runs", {**NOOP_RUN, "wait_s": 60}).json()["run_id"]
    return len(fleet.get(f"/runs/{run_id}/events").json())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    redis.Redis.from_url(args.redis_url).flushdb()
    with tempfile.TemporaryDirectory() as scratch, database(args.database_url) as ledger_url:
        work = Path(scratch)
        home = work / "home"
        home.mkdir()
        env, ports = fleet_environment(home, ledger_url, args.redis_url, None)
        fleet = Fleet(home=home, env=env, ports=ports)
        try:
            print(f"starting {len(SERVICES)} processes ...", flush=True)
            for name, *_ in SERVICES:
                fleet.start(name)
            appended = events_per_run(fleet)
            latencies = [run_latency(fleet) for _ in range(args.runs)]
            print(f"{args.runs} sequential runs done; {args.concurrent} concurrent ...", flush=True)
            rate = throughput(fleet, args.concurrent)
        finally:
            fleet.stop()
        with database(args.database_url) as floor_url, celery_floor(args.redis_url, work) as trip:
            floors = [
                git_floor(work) + trip() + insert_floor(floor_url, appended)
                for _ in range(args.runs)
            ]
    report(latencies, floors, rate, appended, args.concurrent)
    return 0


def report(
    latencies: list[float], floors: list[float], rate: float, appended: int, concurrent: int
) -> None:
    p50, p95, floor = (
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        statistics.median(floors),
    )
    print(f"\none-Order run, command engine doing nothing ({appended} events per run)")
    print(f"{'measurement':34} {'value':>10} {'floor':>10} {'ratio':>7}")
    print(f"{'latency p50 (ms)':34} {p50 * 1000:>10.0f} {floor * 1000:>10.0f} {p50 / floor:>7.1f}")
    print(f"{'latency p95 (ms)':34} {p95 * 1000:>10.0f} {floor * 1000:>10.0f} {p95 / floor:>7.1f}")
    label = f"runs/s with {concurrent} concurrent"
    print(f"{label:34} {rate:>10.2f} {1 / floor:>10.2f} {rate * floor:>7.2f}")
    print(
        "\nfloor = raw git worktree add/status/rev-list/rebase/remove + one raw Celery round trip"
        f" on the same Redis + {appended} raw single-row INSERTs, per run, median of the samples;"
        "\nthroughput floor = 1 / floor (one run at a time, no overlap)"
    )


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
