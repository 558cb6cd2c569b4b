"""`gateway.deliver_reply`: chat and API runs need no reply, and the queue does not pile up."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from ironclaw.contracts import tasks
from ironclaw.contracts.events import RunReceived, StoredEvent
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.celery import publisher_config
from ironclaw.contracts.models import RunSource, SourceKind
from ironclaw.gateway.app import QUEUE, create_celery
from ironclaw.gateway.config import Settings


def deliver(settings: Settings, run_id: str, event_id: str | None = None) -> Any:
    """Run the registered task in this process, as a worker would for one message."""
    task = create_celery(settings).tasks[tasks.DELIVER_REPLY]
    payload = {"event_id": event_id or new_id("evt"), "run_id": run_id}
    return task.apply(kwargs={"payload": payload}).get()


def settled_chat_run(gateway: TestClient, script: Any, theater: str) -> StoredEvent:
    run_id = gateway.post("/chat", json={"message": "hi", "theater": theater}).json()["run_id"]
    script.complete(run_id)
    return script.events("RunCompleted")[-1]


def test_the_task_is_registered_on_the_gateway_queue(settings_for: Callable[..., Settings]) -> None:
    celery = create_celery(settings_for(broker_url="memory://"))

    assert tasks.DELIVER_REPLY in celery.tasks
    assert QUEUE == "gateway"
    assert celery.conf.task_default_queue == "gateway"


def test_a_chat_runs_reply_is_skipped(
    gateway: TestClient, script: Any, theater: str, settings_for: Callable[..., Settings]
) -> None:
    completed = settled_chat_run(gateway, script, theater)

    with capture_logs() as logs:
        outcome = deliver(settings_for(broker_url="memory://"), completed.stream_id, completed.id)
        again = deliver(settings_for(broker_url="memory://"), completed.stream_id, completed.id)

    assert outcome == again == "skipped"
    skipped = [log for log in logs if log["event"] == "gateway.reply.skipped"]
    assert [log["source"] for log in skipped] == ["chat", "chat"]


def test_a_webhook_runs_reply_without_a_connector_is_recorded_as_failed(
    script: Any, theater: str, settings_for: Callable[..., Settings]
) -> None:
    run_id = new_id("run")
    source = RunSource(kind=SourceKind.GITHUB, reference={"issue": "7"})
    received = RunReceived(run_id=run_id, theater=theater, message="hi", source=source)
    script.ledger.append(run_id, [received], expected_version=0)
    script.complete(run_id)

    with capture_logs() as logs:
        outcome = deliver(settings_for(broker_url="memory://"), run_id)

    assert outcome == "no_connector"
    assert any(log["event"] == "gateway.reply.no_connector" for log in logs)
    [failed] = script.events("ReplyFailed")
    assert failed.stream_id == run_id
    assert "IRONCLAW_GITHUB_TOKEN" in str(failed.data["reason"])


def test_unknown_runs_and_bad_payloads_are_dropped_with_a_log_line(
    settings_for: Callable[..., Settings],
) -> None:
    settings = settings_for(broker_url="memory://")
    task = create_celery(settings).tasks[tasks.DELIVER_REPLY]

    with capture_logs() as logs:
        unknown = deliver(settings, "run_00000000000000000000000000")
        invalid = task.apply(kwargs={"payload": {"run_id": "run_x"}}).get()

    assert unknown == "unknown_run"
    assert invalid == "invalid_payload"
    assert {"gateway.reply.unknown_run", "gateway.reply.invalid_payload"} <= {
        log["event"] for log in logs
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_worker_command_consumes_the_gateway_queue(
    gateway: TestClient,
    script: Any,
    theater: str,
    ledger_url: str,
    redis_db_url: str,
    tmp_path: Path,
) -> None:
    completed = settled_chat_run(gateway, script, theater)
    publisher = Celery("test-publisher", broker=redis_db_url)
    publisher.conf.update(publisher_config(redis_db_url))
    payload = {"event_id": completed.id, "run_id": completed.stream_id}
    publisher.send_task(tasks.DELIVER_REPLY, kwargs={"payload": payload}, queue=QUEUE)
    env = {
        **os.environ,
        "IRONCLAW_BROKER_URL": redis_db_url,
        "IRONCLAW_LEDGER_URL": ledger_url,
        "IRONCLAW_HTTP_PORT": str(free_port()),
    }
    log = tmp_path / "worker.log"
    script_path = Path(sys.executable).with_name("ironclaw-gateway")
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [script_path, "worker", "--concurrency=1"], env=env, stdout=sink, stderr=sink
        )
    try:
        deadline = time.monotonic() + 60
        while "gateway.reply.skipped" not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    assert "gateway.reply.skipped" in log.read_text(), log.read_text()
    with redis.Redis.from_url(redis_db_url) as client:
        assert client.llen(QUEUE) == 0
