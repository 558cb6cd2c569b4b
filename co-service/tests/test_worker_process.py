"""The real `ironclaw-co worker` process: tasks sent by name over a broker are consumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from celery import Celery
from openai_server import free_port

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import publisher_config
from ironclaw.contracts.models import RunStatus

if TYPE_CHECKING:  # the `fleet` fixture's class, from this folder's conftest.py
    from conftest import FleetDriver

SCRIPT = Path(sys.executable).with_name("ironclaw-co")


def wait_until(condition: Callable[[], bool], *, deadline_s: float, what: str) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def answers_health(port: int, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "the worker exited"
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def broker_url(tmp_path: Path) -> str:
    """The embedded broker of `make dev`: a folder, no server."""
    return f"filesystem://{tmp_path / 'broker'}"


@pytest.fixture
def co_worker(
    ledger_url: str, broker_url: str, shipped_playbooks: Path, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("IRONCLAW_LLM_") and key != "IRONCLAW_INTERNAL_TOKEN"
    }
    env.update(
        IRONCLAW_BROKER_URL=broker_url,
        IRONCLAW_LEDGER_URL=ledger_url,
        IRONCLAW_GARRISON_DIR=str(shipped_playbooks.parent),
        IRONCLAW_HTTP_HOST="127.0.0.1",
        IRONCLAW_HTTP_PORT=str(port),
        IRONCLAW_HOME=str(tmp_path / "home"),
    )
    log = tmp_path / "co-worker.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(SCRIPT), "worker", "--concurrency=1"],
            env=env,
            cwd=tmp_path,  # the garrison comes from IRONCLAW_GARRISON_DIR, not the cwd
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        wait_until(lambda: answers_health(port, process), deadline_s=60, what="the co worker")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log.read_text()[-5000:])  # shown by pytest only when the test fails


def test_the_worker_consumes_plan_run_and_order_settled_sent_by_name(
    co_worker: subprocess.Popen[bytes], broker_url: str, fleet: FleetDriver
) -> None:
    publisher = Celery("test-publisher", broker=broker_url)
    publisher.conf.update(publisher_config(broker_url))
    task = fleet.receive("Fix the crash on empty input")

    publisher.send_task(
        tasks.PLAN_RUN, kwargs={"payload": task.model_dump(mode="json")}, queue="co"
    )

    run = lambda: fleet.ledger.get_run(task.run_id)  # noqa: E731
    wait_until(lambda: run().status == RunStatus.EXECUTING, deadline_s=30, what="the plan")
    assert run().planner == "playbook:bugfix@1"
    (order,) = fleet.orders(task.run_id).values()
    fleet.complete(order)
    fleet.integrate(fleet.ledger.get_order(order.order_id))

    settled = fleet.settled(order)
    publisher.send_task(
        tasks.ORDER_SETTLED, kwargs={"payload": settled.model_dump(mode="json")}, queue="co"
    )

    wait_until(lambda: run().status == RunStatus.COMPLETED, deadline_s=30, what="the run's end")
    assert "1 of 1 orders integrated" in (run().response or "")
