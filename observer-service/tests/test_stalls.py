"""Stalled attempts: reported only on a stale heartbeat AND no progress on disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.contracts.events import RecoveryRequired, RescueSaved
from ironclaw.contracts.kit.git import git
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
    assert first.did[-1] == f"recovery_required:{order_id}:1:stalled"
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


def rescues(fleet: Fleet, order_id: str) -> list[RescueSaved]:
    events = fleet.ledger.read_stream(order_id).events
    return [RescueSaved.model_validate(e.data) for e in events if e.type == "RescueSaved"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_a_stalled_attempts_work_is_rescued_before_recovery_is_asked_for(
    fleet: Fleet, theater_repository: Path
) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "half_done.py").write_text("progress = 'half'\n")
    (worktree / "README.md").write_text("# project, edited but not committed\n")
    fleet.age_everything(worktree)

    cycle = fleet.patrol(LATER_S)

    types = fleet.event_types(order_id)
    assert types[-2:] == ["RescueSaved", "RecoveryRequired"]  # one append: the DO sees both
    (saved,) = rescues(fleet, order_id)
    ref = f"refs/ironclaw/rescue/{order_id}/1"
    assert saved.ref == ref
    assert git(theater_repository, "rev-parse", ref) == saved.commit
    assert git(theater_repository, "show", f"{ref}:half_done.py") == "progress = 'half'"
    assert "edited but not committed" in git(theater_repository, "show", f"{ref}:README.md")
    assert fleet.order(order_id).attempts[0].rescue_ref == ref
    assert cycle.did == [
        f"rescued:{order_id}:1:{saved.commit}",
        f"recovery_required:{order_id}:1:stalled",
    ]
    assert (worktree / "half_done.py").is_file()  # saved, not removed: the orphan check does that
    assert git(worktree, "status", "--porcelain") != ""  # the unit's own index left alone


def test_the_orphan_check_removes_a_rescued_worktree_without_saving_it_again(
    fleet: Fleet, theater_repository: Path
) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "half_done.py").write_text("progress = 'half'\n")
    fleet.age_everything(worktree)
    fleet.patrol(LATER_S)
    (saved,) = rescues(fleet, order_id)
    fleet.issue(run_id, order_id, 2)  # the duty officer reissued

    cycle = fleet.patrol()

    assert rescues(fleet, order_id) == [saved]
    assert git(theater_repository, "rev-parse", saved.ref) == saved.commit
    assert not worktree.exists()
    assert cycle.did == [f"removed_worktree:{order_id}:1"]


def test_work_done_after_the_stall_rescue_is_saved_again_before_removal(
    fleet: Fleet, theater_repository: Path
) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=TIMEOUT_S))
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "half_done.py").write_text("progress = 'half'\n")
    fleet.age_everything(worktree)
    fleet.patrol(LATER_S)
    fleet.issue(run_id, order_id, 2)
    (worktree / "half_done.py").write_text("progress = 'more'\n")  # a zombie unit wrote on

    fleet.patrol()

    first, second = rescues(fleet, order_id)
    assert second.commit != first.commit
    assert git(theater_repository, "rev-parse", second.ref) == second.commit
    assert git(theater_repository, "show", f"{second.ref}:half_done.py") == "progress = 'more'"
    assert not worktree.exists()
