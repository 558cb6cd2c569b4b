"""Operator controls on the whole fleet: a cancel stops running units and settles every order,
a cancel during a promotion lets it land first, and a reissued attempt carries on from the work
its predecessor left in a rescue ref."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fleet import Fleet

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.git import git
from ironclaw.observer.adapters.rescue import save_rescue

# A heartbeat every 2 s (a third of the heartbeat timeout).
BUDGET = {"heartbeat_timeout_s": 6, "ttl_s": 900}


def mainline(fleet: Fleet, theater: str = "default") -> Path:
    return fleet.home / "theaters" / theater


def ledger_of(fleet: Fleet) -> LedgerClient:
    return LedgerClient(
        f"http://127.0.0.1:{fleet.ports['ledger']}",
        token=fleet.env["IRONCLAW_INTERNAL_TOKEN"],
        retry_for_s=10,
    )


def sleeper(pid_file: Path) -> str:
    """A command that records its pid, then sleeps far beyond any test's patience."""
    return (
        f"python3 -c \"import os, time; open('{pid_file}', 'w').write(str(os.getpid())); "
        'time.sleep(600)"'
    )


def pid_in(fleet: Fleet, pid_file: Path) -> int:
    return int(fleet.wait_until(lambda: pid_file.exists() and pid_file.read_text(), 90, "a unit"))


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def order_view(fleet: Fleet, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = fleet.get(f"/orders/{order_id}").json()
    return view


def held_gate_theater(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A theater whose one gate says it runs, then holds until the test lets it pass: (source,
    the file the gate touches, the file that releases it)."""
    source, started, release = tmp_path / "held-gate", tmp_path / "started", tmp_path / "release"
    source.mkdir()
    git(source, "init", "-b", "main")
    gate = f"touch {started}; while [ ! -e {release} ]; do sleep 0.1; done"
    (source / ".ironclaw.toml").write_text(
        f'[[gates]]\nname = "held"\nrun = "{gate}"\ntimeout_s = 120\n'
    )
    git(source, "add", "-A")
    git(source, "commit", "-m", "held gate")
    return source, started, release


def submit(fleet: Fleet, theater: str, orders: list[dict[str, Any]]) -> str:
    accepted = fleet.post("/runs", {"message": "cancel me", "theater": theater, "orders": orders})
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["run_id"])


def cancel(fleet: Fleet, run_id: str) -> dict[str, Any]:
    response = fleet.post(f"/runs/{run_id}/cancel", {})
    assert response.status_code == 202, response.text
    view: dict[str, Any] = response.json()
    return view


def test_cancel_stops_running_units_and_lets_a_promotion_under_way_land_first(
    fleet: Fleet, tmp_path: Path
) -> None:
    # Run `running`: its unit sleeps in a command; `after` waits for it.
    pid_file = tmp_path / "slow.pid"
    slow_commands = ["echo started > started.txt", sleeper(pid_file), "echo x > never.txt"]
    running = submit(
        fleet,
        "default",
        [
            {"key": "slow", "objective": "forever", "commands": slow_commands, "budget": BUDGET},
            {"key": "after", "objective": "then", "commands": ["true"], "depends_on": ["slow"]},
        ],
    )
    head = git(mainline(fleet), "rev-parse", "main")  # `default` is made on first use
    # Run `landing`: its first order's promotion holds in a gate; `later` waits for it.
    source, gate_started, gate_release = held_gate_theater(tmp_path)
    created = fleet.post("/theaters", {"name": "slow", "source": str(source), "mainline": "main"})
    assert created.status_code == 201, created.text
    landing = submit(
        fleet,
        "slow",
        [
            {"key": "land", "objective": "land", "commands": ["echo land > land.txt"]},
            {"key": "later", "objective": "then", "commands": ["true"], "depends_on": ["land"]},
        ],
    )
    pid = pid_in(fleet, pid_file)
    fleet.wait_until(gate_started.exists, 90, "the promotion's gate to run")

    stopping = cancel(fleet, running)
    landing_view = cancel(fleet, landing)
    again = cancel(fleet, landing)

    assert stopping["cancel_requested"] is True
    assert landing_view["cancel_requested"] is True
    assert landing_view["status"] != "cancelled"  # the promotion under way lands first
    statuses = {order["key"]: order["status"] for order in landing_view["orders"]}
    assert statuses == {"land": "integrating", "later": "cancelled"}
    assert again["cancel_requested"] is True

    stopped = fleet.wait_for_run(running)
    assert stopped.status == "cancelled"
    assert {o.key: o.status for o in stopped.orders} == {"slow": "cancelled", "after": "cancelled"}
    fleet.wait_until(lambda: not is_alive(pid), 60, "the unit's command to be stopped")
    events = [e["type"] for e in fleet.get(f"/runs/{running}/events").json()]
    assert events.count("RunCancelled") == 1
    assert "OrderFailed" not in events
    assert "OrderCompleted" not in events
    assert git(mainline(fleet), "rev-parse", "main") == head

    gate_release.touch()
    landed = fleet.wait_for_run(landing)
    assert landed.status == "cancelled"
    assert {o.key: o.status for o in landed.orders} == {"land": "integrated", "later": "cancelled"}
    assert git(mainline(fleet, "slow"), "show", "main:land.txt") == "land"
    events = [e["type"] for e in fleet.get(f"/runs/{landing}/events").json()]
    assert events.count("RunCancelRequested") == 1  # the second cancel appended nothing
    assert events.count("RunCancelled") == 1

    slow = next(order for order in stopped.orders if order.key == "slow")
    retried = fleet.post(f"/orders/{slow.order_id}/retry", {})
    assert retried.status_code == 409
    assert "which is cancelled" in retried.json()["detail"]


def test_an_attempt_reissued_from_a_rescue_integrates_its_predecessors_work_and_its_own(
    fleet: Fleet, tmp_path: Path
) -> None:
    pid_file = tmp_path / "first.pid"
    commit = "git -c user.name=unit -c user.email=unit@localhost commit -q -m 'resume: one'"
    first_only = (
        f"test -e one.txt || {{ echo one > one.txt && git add one.txt && {commit} && "
        f"echo two > two.txt && {sleeper(pid_file)}; }}"
    )
    order = {
        "key": "resume",
        "objective": "three files",
        "commands": [first_only, "echo three > three.txt"],
        "budget": BUDGET,
    }
    run_id = fleet.post("/runs", {"message": "resume", "orders": [order]}).json()["run_id"]
    first_unit = pid_in(fleet, pid_file)
    (summary,) = fleet.get(f"/runs/{run_id}").json()["orders"]
    order_id = summary["order_id"]
    worktree = Path(order_view(fleet, order_id)["attempts"][0]["worktree"])
    assert (worktree / "two.txt").exists()

    # The observer's part (the unit looks stalled): save its work, committed and not.
    rescue = save_rescue(mainline(fleet), worktree, order_id, 1)
    # The duty officer's part: reissue as attempt 2 from the rescue.
    ledger = ledger_of(fleet)
    ledger.append(
        order_id,
        [
            ev.RescueSaved(order_id=order_id, attempt=1, ref=rescue.ref, commit=rescue.commit),
            ev.OrderIssued(
                order_id=order_id, run_id=run_id, attempt=2, reason="stalled", rescue_ref=rescue.ref
            ),
        ],
        expected_version=None,
    )

    run = fleet.wait_for_run(run_id)

    assert run.status == "completed", fleet.timeline(run_id)
    view = order_view(fleet, order_id)
    assert (view["status"], view["attempt"]) == ("integrated", 2)
    assert view["attempts"][0]["status"] == "superseded"
    assert sorted(view["attempts"][1]["aar"]["changed_files"]) == [
        "one.txt",
        "three.txt",
        "two.txt",
    ]
    repo = mainline(fleet)
    assert git(repo, "ls-tree", "-r", "--name-only", "main").split() == [
        "one.txt",
        "three.txt",
        "two.txt",
    ]  # and never `.ironclaw/`, though the rescue took every file of the worktree
    assert view["integration"]["merged_commit"] == git(repo, "rev-parse", "main")
    fleet.wait_until(lambda: not is_alive(first_unit), 60, "the superseded unit to stop")
