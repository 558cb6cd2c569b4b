"""Completion checks, and the `PatrolCompleted` every cycle records."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.contracts.events import PatrolCompleted, RecoveryRequired
from ironclaw.contracts.kit.git import git

if TYPE_CHECKING:
    from conftest import Fleet

MISSING = "b" * 40


def recoveries(fleet: Fleet, order_id: str) -> list[RecoveryRequired]:
    events = fleet.ledger.read_stream(order_id).events
    return [RecoveryRequired.model_validate(e.data) for e in events if e.type == "RecoveryRequired"]


def test_a_completed_order_whose_commit_is_missing_is_incomplete(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "done.py").write_text("done = True\n")
    git(worktree, "add", "done.py")
    git(worktree, "commit", "--quiet", "-m", "done")
    real = git(worktree, "rev-parse", "HEAD")
    fleet.complete(run_id, order_id, 1, [real, MISSING])

    fleet.patrol()
    fleet.patrol()

    (recovery,) = recoveries(fleet, order_id)
    assert recovery.reason == "incomplete"
    assert MISSING in recovery.detail
    assert real not in recovery.detail
    assert worktree.is_dir()  # integration still needs it


def test_a_completed_order_with_its_commits_in_place_is_left_to_integration(
    fleet: Fleet,
) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "done.py").write_text("done = True\n")
    git(worktree, "add", "done.py")
    git(worktree, "commit", "--quiet", "-m", "done")
    fleet.complete(run_id, order_id, 1, [git(worktree, "rev-parse", "HEAD")])

    cycle = fleet.patrol()

    assert recoveries(fleet, order_id) == []
    assert cycle.saw["completed"] == 1
    assert cycle.saw["incomplete"] == 0
    assert "IntegrationReady" not in fleet.event_types(order_id)  # integration has its message


def test_a_completed_order_left_waiting_is_announced_integration_ready_once(
    fleet: Fleet,
) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "done.py").write_text("done = True\n")
    git(worktree, "add", "done.py")
    git(worktree, "commit", "--quiet", "-m", "done")
    fleet.complete(run_id, order_id, 1, [git(worktree, "rev-parse", "HEAD")])

    assert fleet.patrol(seconds_from_now=20).did == []
    announced = fleet.patrol(seconds_from_now=40)
    fleet.patrol(seconds_from_now=80)

    assert announced.did == [f"integration_ready:{order_id}:1"]
    assert fleet.event_types(order_id).count("IntegrationReady") == 1


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_every_cycle_records_patrol_completed_on_the_theaters_observer_stream(
    fleet: Fleet,
) -> None:
    run_id, order_id = fleet.planned_order()
    fleet.start(run_id, order_id, 1)

    returned = [fleet.patrol(), fleet.patrol()]

    stored = [
        PatrolCompleted.model_validate(e.data)
        for e in fleet.ledger.read_stream("patrol-observer-project").events
    ]
    assert stored == returned
    assert [p.scope for p in stored] == ["project", "project"]
    assert {p.patrol for p in stored} == {"observer"}
    assert {p.holder for p in stored} == {"test:1"}
    assert stored[0].saw == {
        "active": 1,
        "stalled": 0,
        "looping": 0,
        "worktrees": 1,
        "orphaned": 0,
        "completed": 0,
        "incomplete": 0,
    }
    assert stored[0].did == []


def test_patrol_all_covers_every_theater(fleet: Fleet) -> None:
    cycles = fleet.observer().patrol_all()

    assert [c.scope for c in cycles] == ["project"]
