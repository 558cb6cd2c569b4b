"""What every chaos test checks at its end: the fleet converged and nothing was lost or doubled."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

from fleet import Fleet, script

from ironclaw.contracts.api import OrderView, RunView
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import ORDER_SETTLED, RUN_SETTLED

# The sentinel looks every 2 s at a duty officer that patrols every second; a duty heartbeat
# older than 5 s is stale (2 intervals and 3 s of slack for a loaded machine).
SENTINEL_INTERVAL_S = 2.0
DUTY_STALE_AFTER_S = 5.0
SERVICE_SETTINGS = {
    "sentinel": {
        "IRONCLAW_PATROL_INTERVAL_S": str(SENTINEL_INTERVAL_S),
        "IRONCLAW_DUTY_PATROL_INTERVAL_S": "1",
        "IRONCLAW_DUTY_STALE_AFTER_S": str(DUTY_STALE_AFTER_S),
    }
}

ORDER_TRAILER = re.compile(r"^Order-Id: (ord_\w+)$", re.MULTILINE)


def mainline(fleet: Fleet, theater: str = "default") -> Path:
    return fleet.home / "theaters" / theater


def orders_of(fleet: Fleet, runs: list[RunView]) -> list[OrderView]:
    return [fleet.ledger.get_order(o.order_id) for run in runs for o in run.orders]


def merged_order_ids(fleet: Fleet, theater: str = "default") -> Counter[str]:
    """How many commits on the mainline carry each Order-Id trailer."""
    log = git(mainline(fleet, theater), "log", "--format=%B%x00", "main")
    return Counter(ORDER_TRAILER.findall(log))


def assert_converged(
    fleet: Fleet, run_ids: list[str], *, theater: str = "default"
) -> list[RunView]:
    """Every run and order settled; each integrated order on mainline exactly once with its
    merged commit reachable; nothing else merged; the ledger's rebuild equals its live state."""
    runs = [fleet.wait_for_run(run_id, timeout_s=180) for run_id in run_ids]
    assert all(run.status in RUN_SETTLED for run in runs)
    orders = orders_of(fleet, runs)
    unsettled = [(o.order_id, o.status) for o in orders if o.status not in ORDER_SETTLED]
    assert unsettled == [], "every order ends integrated, failed, integration_failed or cancelled"

    merged = merged_order_ids(fleet, theater)
    integrated = {o.order_id for o in orders if o.status == "integrated"}
    ours = {o.order_id for o in orders}
    on_mainline = {order_id for order_id in merged if order_id in ours}
    assert on_mainline == integrated, (
        f"exactly the integrated orders are on mainline: {sorted(on_mainline)} "
        f"vs {sorted(integrated)} ({[(o.order_id, o.status) for o in orders]})"
    )
    doubled = {order_id: n for order_id, n in merged.items() if n > 1}
    assert doubled == {}, "no attempt is merged twice"
    repository = mainline(fleet, theater)
    for order in orders:
        if order.status == "integrated":
            assert order.integration is not None
            assert order.integration.merged_commit
            ancestor = subprocess.run(
                ["git", "merge-base", "--is-ancestor", order.integration.merged_commit, "main"],
                cwd=repository,
                capture_output=True,
            )
            assert ancestor.returncode == 0, f"{order.order_id}'s merged commit left mainline"
    assert_rebuild_equals_live(fleet)
    return runs


def assert_rebuild_equals_live(fleet: Fleet) -> None:
    """`ironclaw-ledger check` replays every event and finds no difference with the live rows."""
    checked = subprocess.run(
        [script("ironclaw-ledger"), "check"],
        env=fleet.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "live projections equal the rebuilt ones" in checked.stdout
