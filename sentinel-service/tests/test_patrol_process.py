"""`ironclaw-sentinel patrol` beside two `ironclaw-duty patrol` processes, all real, on Redis:
SIGKILL the active duty officer, and the sentinel hands its watch to the standby long before
the dead officer's lease (60 s) would have expired on its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openai_server import free_port

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound

if TYPE_CHECKING:
    from conftest import Duty, Webhook

BIN = Path(sys.executable).parent
DUTY_LEASE_TTL_S = 60
Start = Callable[..., tuple[subprocess.Popen[bytes], Path]]


@pytest.fixture
def start(ledger_url: str, redis_db_url: str, tmp_path: Path) -> Iterator[Start]:
    """`start(script, name, **env)`: `<script> patrol` logging to `<tmp>/<name>.log`."""
    with ExitStack() as stack:

        def run(script: str, name: str, **extra: str) -> tuple[subprocess.Popen[bytes], Path]:
            env = {
                **os.environ,
                "IRONCLAW_LEDGER_URL": ledger_url,
                "IRONCLAW_BROKER_URL": redis_db_url,
                "IRONCLAW_HOME": str(tmp_path),
                "IRONCLAW_HTTP_PORT": str(free_port()),
                **extra,
            }
            log = tmp_path / f"{name}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [BIN / script, "patrol"], env=env, stdout=subprocess.DEVNULL, stderr=sink
                )
            stack.callback(_stop, process)
            return process, log

        yield run


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def heartbeats(ledger: LedgerClient, stream: str) -> list[ev.PatrolCompleted]:
    try:
        events = ledger.read_stream(stream).events
    except LedgerNotFound:
        return []
    return [
        ev.PatrolCompleted.model_validate(e.data) for e in events if e.type == "PatrolCompleted"
    ]


def heartbeats_since(ledger: LedgerClient, fence: int) -> list[ev.PatrolCompleted]:
    """The duty heartbeats of the tenures after `fence`."""
    return [h for h in heartbeats(ledger, "patrol-duty") if (h.fence or 0) > fence]


def pid_of(holder: str) -> int:
    return int(holder.rsplit(":", 1)[1])


def test_the_sentinel_fails_a_killed_duty_officer_over_to_the_standby(
    start: Start, duty: Duty, webhook: Webhook
) -> None:
    ledger = duty.ledger
    officer_env = {
        "IRONCLAW_PATROL_INTERVAL_S": "0.5",
        "IRONCLAW_DUTY_LEASE_TTL_S": str(DUTY_LEASE_TTL_S),
    }
    officers = [start("ironclaw-duty", f"duty-{n}", **officer_env) for n in (1, 2)]
    sentinel, sentinel_log = start(
        "ironclaw-sentinel",
        "sentinel",
        IRONCLAW_PATROL_INTERVAL_S="0.5",
        IRONCLAW_DUTY_PATROL_INTERVAL_S="0.5",
        IRONCLAW_DUTY_SLACK_S="4",
        IRONCLAW_ALERT_WEBHOOK_URL=webhook.url,
    )
    deadline = time.monotonic() + 60
    while not (
        heartbeats(ledger, "patrol-sentinel")
        and heartbeats(ledger, "patrol-duty")
        and any('"duty.patrol.standby"' in log.read_text() for _, log in officers)
    ):
        assert time.monotonic() < deadline, "\n".join(log.read_text() for _, log in officers)
        time.sleep(0.1)

    active = heartbeats(ledger, "patrol-duty")[-1]
    (victim, _), (standby, _) = sorted(officers, key=lambda o: o[0].pid != pid_of(active.holder))
    assert victim.pid == pid_of(active.holder)
    assert active.fence is not None
    victim.send_signal(signal.SIGKILL)
    victim.wait()

    # Without the sentinel the dead officer's lease would hold the standby off for 60 s.
    takeover_deadline = time.monotonic() + DUTY_LEASE_TTL_S / 2
    while not (taken_over := heartbeats_since(ledger, active.fence)):
        assert time.monotonic() < takeover_deadline, sentinel_log.read_text()
        time.sleep(0.2)

    assert {pid_of(h.holder) for h in taken_over} == {standby.pid}
    assert {h.fence for h in taken_over} == {active.fence + 1}
    (failover,) = duty.sentinel_events(ev.DutyFailover)
    assert (failover.stale_holder, failover.fence) == (active.holder, active.fence)
    assert pid_of(failover.holder) == sentinel.pid
    assert {"duty_heartbeat_stale", "duty_failover"} <= set(webhook.kinds())
    assert '"sentinel.alert"' in sentinel_log.read_text()

    for process in (standby, sentinel):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
