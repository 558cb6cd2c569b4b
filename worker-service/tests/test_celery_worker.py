"""The real `ironclaw-worker worker` process: a task sent by name runs an Order to completion."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery
from openai_server import free_port

from ironclaw.contracts import tasks
from ironclaw.contracts.kit.celery import publisher_config

WORKER = shutil.which("ironclaw-worker") or str(Path(sys.executable).parent / "ironclaw-worker")


@contextmanager
def worker_process(environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [WORKER, "worker", "--concurrency=1"],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            # The test is over and units are disposable: the whole group (pool children too)
            # goes at once, rather than waiting seconds for Celery's warm shutdown.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def test_a_task_sent_by_name_runs_the_order_to_completion(
    tmp_path, ledger_url, ledger_client, issue_order, vault_url
):
    message = issue_order(commands=["echo from-celery > celery.txt"])
    broker = f"filesystem://{tmp_path / 'broker'}"
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("IRONCLAW_")
    }
    environment.update(
        IRONCLAW_BROKER_URL=broker,
        IRONCLAW_LEDGER_URL=ledger_url,
        IRONCLAW_VAULT_URL=vault_url,
        IRONCLAW_HOME=str(tmp_path / "worker-home"),
        IRONCLAW_HTTP_PORT=str(free_port()),
        IRONCLAW_HEARTBEAT_INTERVAL_S="0.5",
    )
    log = tmp_path / "worker.log"
    with worker_process(environment, log) as process:
        publisher = Celery("test-publisher", broker=broker, set_as_current=False)
        publisher.conf.update(publisher_config(broker))
        publisher.send_task(
            tasks.EXECUTE_ORDER,
            kwargs={"payload": message.model_dump(mode="json")},
            queue=tasks.queue_for(tasks.EXECUTE_ORDER),
        )
        deadline = time.monotonic() + 60
        while ledger_client.get_order(message.order_id).status != "completed":
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)

    order = ledger_client.get_order(message.order_id)
    (attempt,) = order.attempts
    assert (attempt.worker_id or "").split(":")[-1].isdigit()
    assert len(attempt.commits) == 1
    assert (Path(attempt.worktree or "") / "celery.txt").read_text() == "from-celery\n"
