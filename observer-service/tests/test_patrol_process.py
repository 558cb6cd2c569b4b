"""`ironclaw-observer patrol` as the real process: it patrols every theater until SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from openai_server import free_port

from ironclaw.contracts.clients.ledger import LedgerNotFound
from ironclaw.contracts.events import PatrolCompleted

if TYPE_CHECKING:
    from conftest import Fleet


def test_the_patrol_process_records_cycles_and_stops_cleanly_on_sigterm(
    fleet: Fleet, vault_url: str, ledger_url: str, home: Path, tmp_path: Path
) -> None:
    script = shutil.which("ironclaw-observer")
    assert script is not None
    env = {
        **os.environ,
        "IRONCLAW_HOME": str(home),
        "IRONCLAW_LEDGER_URL": ledger_url,
        "IRONCLAW_VAULT_URL": vault_url,
        "IRONCLAW_PATROL_INTERVAL_S": "0.2",
        "IRONCLAW_HTTP_PORT": str(free_port()),
    }
    with (tmp_path / "observer.log").open("wb") as log:
        process = subprocess.Popen([script, "patrol"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(cycles(fleet)) < 2:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=20)

    recorded = cycles(fleet)
    assert len(recorded) >= 2, (tmp_path / "observer.log").read_text()
    assert {c.scope for c in recorded} == {"project"}
    assert all(c.holder.endswith(f":{process.pid}") for c in recorded)
    assert returncode == 0


def cycles(fleet: Fleet) -> list[PatrolCompleted]:
    try:
        events = fleet.ledger.read_stream("patrol-observer-project").events
    except LedgerNotFound:  # the stream does not exist before the first cycle
        return []
    return [PatrolCompleted.model_validate(e.data) for e in events]
