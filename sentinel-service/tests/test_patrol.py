"""The sentinel patrol loop (a placeholder that logs idle rounds) and how it stops."""

from __future__ import annotations

import threading
import time

from structlog.testing import capture_logs

from ironclaw.sentinel.config import Settings
from ironclaw.sentinel.patrol import run_patrol


def test_a_stopped_patrol_makes_one_round_and_returns() -> None:
    stop = threading.Event()
    stop.set()

    with capture_logs() as logs:
        rounds = run_patrol(Settings(patrol_interval_s=60), stop)

    assert rounds == 1
    assert [entry["event"] for entry in logs] == ["sentinel.patrol.idle"]


def test_the_patrol_repeats_every_interval_until_stopped() -> None:
    stop = threading.Event()
    result: list[int] = []
    with capture_logs() as logs:
        thread = threading.Thread(
            target=lambda: result.append(run_patrol(Settings(patrol_interval_s=0.01), stop))
        )
        thread.start()
        deadline = time.monotonic() + 10
        while len(logs) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        thread.join(timeout=10)

    assert len(result) == 1
    assert result[0] >= 3
    assert {entry["event"] for entry in logs} == {"sentinel.patrol.idle"}
