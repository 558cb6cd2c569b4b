"""Stalled attempts: reported only on a stale heartbeat AND no progress on disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.contracts.events import RecoveryRequired
from ironclaw.contracts.models import OrderBudget

if TYPE_CHECKING:
    from conftest import Fleet

TIMEOUT_S = 10
LATER_S = 60  # the observer looks this far after the unit's last Signal: past the timeout


def recoveries(fleet: Fleet, order_id: str) -> list[RecoveryRequired]:
    events = fleet.ledger.read_stream(order_id).events
    return [RecoveryRequired.model_validate(e.data) for e in events if e.type == "RecoveryRequired"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_a_stale_heartbeat_and_no_disk_progress_is_reported_stalled_once(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = fleet.start(run_id, order_id, 1)
    fleet.signal(order_id, 1)
    fleet.age_everything(worktree.path)

    first = fleet.patrol(LATER_S)
    second = fleet.patrol(LATER_S)

    (recovery,) = recoveries(fleet, order_id)
    assert recovery.reason == "stalled"
    assert recovery.attempt == 1
    assert "no change on disk" in recovery.detail
    assert fleet.order(order_id).recovery_reason is not None
    assert first.saw["stalled"] == 1
    assert first.did == [f"recovery_required:{order_id}:1:stalled"]
    assert second.saw["stalled"] == 0  # reported once per attempt: the duty officer acts on it
    assert Path(worktree.path).is_dir()  # a live attempt's worktree is never touched


def test_a_stale_heartbeat_with_its_worktree_gone_is_reported_stalled(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = fleet.start(run_id, order_id, 1)
    shutil.rmtree(worktree.path)

    fleet.patrol(LATER_S)

    (recovery,) = recoveries(fleet, order_id)
    assert recovery.reason == "stalled"
    assert "worktree is gone" in recovery.detail


def test_a_stale_heartbeat_with_files_changing_is_slow_not_dead(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    fleet.age_everything(worktree)
    observer = fleet.observer(LATER_S)
    just_now = observer.clock().timestamp() - 2
    fresh = worktree / "README.md"
    fresh.write_text("# project, being edited\n")
    os.utime(fresh, (just_now, just_now))

    cycle = observer.patrol_theater(fleet.ledger.get_theater("project"))

    assert recoveries(fleet, order_id) == []
    assert cycle.saw["active"] == 1
    assert cycle.saw["stalled"] == 0


def test_a_fresh_heartbeat_is_never_reported_even_without_disk_progress(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = fleet.start(run_id, order_id, 1)
    fleet.age_everything(worktree.path)
    fleet.signal(order_id, 1)

    cycle = fleet.patrol(1)

    assert recoveries(fleet, order_id) == []
    assert cycle.saw["active"] == 1
    assert cycle.did == []


def test_an_attempt_that_never_signalled_is_judged_from_its_start(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = fleet.start(run_id, order_id, 1)
    fleet.age_everything(worktree.path)

    fleet.patrol(TIMEOUT_S / 2)
    assert recoveries(fleet, order_id) == []
    fleet.patrol(LATER_S)
    assert [r.reason for r in recoveries(fleet, order_id)] == ["stalled"]
