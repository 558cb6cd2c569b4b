"""`ironclaw-duty patrol` as real processes: two of them, one patrols, the other stands by."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixtures' classes, from this folder's conftest
    from conftest import Orders

SCRIPT = Path(sys.executable).parent / "ironclaw-duty"
StartDuty = Callable[[str], tuple[subprocess.Popen[bytes], Path]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def start_duty(ledger_url: str, redis_db_url: str, tmp_path: Path) -> Iterator[StartDuty]:
    """`start(name)`: an `ironclaw-duty patrol` process logging to `<tmp>/<name>.log`."""
    with ExitStack() as stack:

        def start(name: str) -> tuple[subprocess.Popen[bytes], Path]:
            env = {
                **os.environ,
                "IRONCLAW_LEDGER_URL": ledger_url,
                "IRONCLAW_BROKER_URL": redis_db_url,
                "IRONCLAW_HOME": str(tmp_path),
                "IRONCLAW_PATROL_INTERVAL_S": "0.1",
                "IRONCLAW_HTTP_PORT": str(free_port()),
            }
            log = tmp_path / f"{name}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [SCRIPT, "patrol"], env=env, stdout=subprocess.DEVNULL, stderr=sink
                )
            stack.callback(_stop, process)
            return process, log

        yield start


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_two_duty_officers_one_patrols_the_other_stands_by_until_it_stops(
    start_duty: StartDuty, orders: Orders
) -> None:
    first, first_log = start_duty("first")
    deadline = time.monotonic() + 20
    while not orders.heartbeats():
        assert time.monotonic() < deadline, first_log.read_text()
        time.sleep(0.1)
    second, second_log = start_duty("second")
    while '"duty.patrol.standby"' not in second_log.read_text():
        assert time.monotonic() < deadline, second_log.read_text()
        time.sleep(0.1)
    assert {h.holder.split(":")[1] for h in orders.heartbeats()} == {str(first.pid)}

    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=10) == 0
    while orders.heartbeats()[-1].holder.split(":")[1] != str(second.pid):
        assert time.monotonic() < deadline, second_log.read_text()
        time.sleep(0.1)

    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0
