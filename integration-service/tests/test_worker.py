"""`integration.integrate_order` as the fleet runs it: a Celery worker consuming its queue."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from celery import Celery
from pydantic import ValidationError

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import publisher_config
from ironclaw.contracts.models import OrderStatus
from ironclaw.integration.app import QUEUE, create_celery
from ironclaw.integration.config import Settings

if TYPE_CHECKING:
    from conftest import Stage  # the fixtures' types; conftest is not importable at run time


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def broker_url(request: pytest.FixtureRequest, redis_url: str | None, tmp_path: Path) -> str:
    """A Redis database of this test's own when the suite has Redis, else the dev broker."""
    if redis_url is None:
        return f"filesystem://{tmp_path / 'broker'}"
    url: str = request.getfixturevalue("redis_db_url")
    return url


def test_the_task_is_registered_and_refuses_a_malformed_payload() -> None:
    celery = create_celery(Settings(broker_url="memory://"))
    task = celery.tasks[tasks.INTEGRATE_ORDER]

    with pytest.raises(ValidationError, match="event_id"):
        task(payload={"event_id": "nope", "order_id": "ord_x", "run_id": "run_x", "attempt": 1})
    with pytest.raises(ValidationError, match="attempt"):
        task(payload={"order_id": "ord_x", "run_id": "run_x", "attempt": 0})


def test_the_task_skips_an_order_the_ledger_does_not_know(ledger_url: str) -> None:
    celery = create_celery(Settings(broker_url="memory://", ledger_url=ledger_url))
    payload = {
        "event_id": "evt_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "order_id": "ord_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "run_id": "run_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "attempt": 1,
    }

    assert celery.tasks[tasks.INTEGRATE_ORDER](payload=payload) == "skipped"


def test_the_worker_process_integrates_an_order_sent_by_name(
    stage: Stage, ledger_url: str, broker_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "IRONCLAW_BROKER_URL": broker_url,
        "IRONCLAW_LEDGER_URL": ledger_url,
        "IRONCLAW_VAULT_URL": f"http://127.0.0.1:{closed_port()}",  # vault is down
        "IRONCLAW_VAULT_RETRY_S": "0",
        "IRONCLAW_HTTP_HOST": "127.0.0.1",
        "IRONCLAW_HTTP_PORT": str(closed_port()),
    }
    script = Path(sys.executable).with_name("ironclaw-integration")
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [str(script), "worker", "--concurrency=1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        # The worker takes seconds to start: the order gets ready meanwhile.
        (order,) = stage.plan_run("feature")
        stage.finish(order, {"feature.txt": "from the worker\n"})
        publisher = Celery("test-publisher", broker=broker_url)
        publisher.conf.update(publisher_config(broker_url))
        publisher.send_task(
            tasks.INTEGRATE_ORDER,
            kwargs={"payload": order.request().model_dump(mode="json")},
            queue=QUEUE,
        )
        deadline = time.monotonic() + 60
        while stage.order(order).status is not OrderStatus.INTEGRATED:
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        deadline = time.monotonic() + 30
        while b"integration.worktree.remove_failed" not in log.read_bytes():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            returncode = worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            raise

    assert returncode == 0, log.read_text()[-3000:]
    assert stage.theater.show("feature.txt") == "from the worker"
    text = log.read_text()
    assert '"event": "integration.order.integrated"' in text
    assert f'"order_id": "{order.order_id}"' in text
