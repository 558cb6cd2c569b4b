"""`co.plan_run` on a real ledger: explicit orders, playbooks, duplicates, crashes, refusals."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.co.domain.planners import RunPlanner
from ironclaw.co.domain.planning import plan_run
from ironclaw.contracts import events as ev
from ironclaw.contracts.models import OrderStatus, RequestedOrder, RunStatus

if TYPE_CHECKING:  # the `fleet` fixture's class, from this folder's conftest.py
    from conftest import FleetDriver

both_backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def planner(shipped_playbooks: Path) -> RunPlanner:
    return RunPlanner(playbooks_dir=shipped_playbooks)


def order(key: str, *depends_on: str, **fields: object) -> RequestedOrder:
    return RequestedOrder.model_validate(
        {"key": key, "objective": f"do {key}", "depends_on": list(depends_on), **fields}
    )


@both_backends
def test_explicit_orders_are_planned_in_one_transaction_and_only_free_ones_issued(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    requested = [
        order("left", commands=["touch left"]),
        order("right", commands=["touch right"]),
        order("join", "left", "right", engine="command", commands=["cat left right"]),
    ]
    task = fleet.receive("three command orders", orders=requested, profile="fast")

    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "planned"

    assert fleet.types(task.run_id) == ["RunReceived", "RunPlanningStarted", "RunPlanned"]
    plan = fleet.planned(task.run_id)
    assert plan.planner == "explicit"
    assert [o.key for o in plan.orders] == ["left", "right", "join"]
    orders = fleet.orders(task.run_id)
    left, right, join = (orders[k] for k in ("left", "right", "join"))
    assert join.depends_on == [left.order_id, right.order_id]
    assert (left.status, right.status, join.status) == ("issued", "issued", "planned")
    assert (left.engine, join.commands, left.profile) == ("command", ["cat left right"], "fast")
    assert fleet.types(left.order_id) == ["OrderPlanned", "OrderIssued"]
    assert fleet.types(join.order_id) == ["OrderPlanned"]
    # One batch: every event of it was recorded by the same transaction, at consecutive positions.
    batch = [fleet.events(task.run_id)[-1]] + [
        e for o in (left, right, join) for e in fleet.events(o.order_id)
    ]
    assert len({e.recorded_at for e in batch}) == 1
    positions = sorted(e.position for e in batch)
    assert positions == list(range(positions[0], positions[0] + len(batch)))
    assert all(e.metadata.causation_id == task.event_id for e in batch)
    assert fleet.ledger.get_run(task.run_id).status == RunStatus.EXECUTING


@both_backends
def test_a_duplicate_delivery_plans_the_run_once(fleet: FleetDriver, planner: RunPlanner) -> None:
    task = fleet.receive(orders=[order("only")])

    outcomes = [plan_run(task, ledger=fleet.ledger, planner=planner) for _ in range(3)]

    assert outcomes == ["planned", "skipped", "skipped"]
    assert fleet.types(task.run_id).count("RunPlanned") == 1
    assert len(fleet.orders(task.run_id)) == 1


@both_backends
def test_concurrent_deliveries_plan_the_run_once(fleet: FleetDriver, planner: RunPlanner) -> None:
    task = fleet.receive(orders=[order("only")])

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(
            pool.map(lambda _: plan_run(task, ledger=fleet.ledger, planner=planner), range(4))
        )

    assert outcomes.count("planned") == 1
    assert set(outcomes) <= {"planned", "taken", "skipped"}
    assert fleet.types(task.run_id).count("RunPlanned") == 1
    assert len(fleet.orders(task.run_id)) == 1


def test_a_planner_that_crashed_mid_planning_is_taken_over(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    task = fleet.receive(orders=[order("only")])
    crashed = ev.RunPlanningStarted(run_id=task.run_id, planner="explicit")
    fleet.ledger.append(task.run_id, [crashed], expected_version=1)

    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "planned"

    assert fleet.types(task.run_id)[-2:] == ["RunPlanningStarted", "RunPlanned"]
    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "skipped"


@pytest.mark.parametrize(
    ("orders", "reason"),
    [
        ([order("a", "b"), order("b", "a")], "the dependencies form a cycle: a -> b -> a"),
        ([order("a", "ghost")], "order 'a' depends on unknown key 'ghost'"),
        ([order("a"), order("a")], "order keys must be unique; repeated: a"),
    ],
    ids=["cycle", "unknown-key", "duplicate-key"],
)
def test_explicit_orders_that_are_not_a_dag_fail_the_run_with_the_reason(
    fleet: FleetDriver, planner: RunPlanner, orders: list[RequestedOrder], reason: str
) -> None:
    task = fleet.receive(orders=orders)

    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "failed"

    run = fleet.ledger.get_run(task.run_id)
    assert run.status == RunStatus.FAILED
    assert run.reason == f"planning failed: {reason}"
    assert fleet.orders(task.run_id) == {}
    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "skipped"


KINDS = {
    "feature": "Add a dark mode toggle to the settings page",
    "bugfix": "Fix the crash on empty input",
    "docs": "Fix typos in the README",
    "refactor": "Refactor the storage layer and rename Repo to Store",
    "chore": "Bump dependencies and fix the lint config",
}


def test_without_a_model_the_playbook_matcher_plans_each_kind(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    for kind, message in KINDS.items():
        task = fleet.receive(message)

        assert plan_run(task, ledger=fleet.ledger, planner=planner) == "planned"

        plan = fleet.planned(task.run_id)
        assert plan.planner == f"playbook:{kind}@1"
        assert f"classified as {kind}" in plan.rationale
        (only,) = fleet.orders(task.run_id).values()
        assert message in only.objective
        assert (only.engine, only.task_type, only.status) == ("openai", kind, OrderStatus.ISSUED)


def test_a_playbook_named_by_the_run_wins_over_classification(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    task = fleet.receive("Fix the crash on empty input", playbook="docs")

    plan_run(task, ledger=fleet.ledger, planner=planner)

    assert fleet.planned(task.run_id).planner == "playbook:docs@1"
    assert "playbook requested with the run" in fleet.planned(task.run_id).rationale


def test_an_unknown_playbook_fails_the_run_naming_the_known_ones(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    task = fleet.receive("anything", playbook="deploy")

    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "failed"

    reason = fleet.ledger.get_run(task.run_id).reason or ""
    assert "unknown playbook 'deploy'; known: bugfix@1, chore@1, docs@1" in reason


def test_playbook_orders_with_commands_use_the_command_engine_and_keep_their_dag(
    fleet: FleetDriver, tmp_path: Path
) -> None:
    (tmp_path / "ship.toml").write_text(
        'name = "ship"\nversion = 3\ndescription = "build then publish"\ndefault = true\n'
        '[[orders]]\nkey = "build"\nobjective = "Build for: {message}"\ncommands = ["make"]\n'
        '[[orders]]\nkey = "publish"\nobjective = "Publish"\ndepends_on = ["build"]\n'
    )
    task = fleet.receive("release it")

    plan_run(task, ledger=fleet.ledger, planner=RunPlanner(playbooks_dir=tmp_path))

    assert fleet.planned(task.run_id).planner == "playbook:ship@3"
    orders = fleet.orders(task.run_id)
    build, publish = orders["build"], orders["publish"]
    assert (build.engine, build.status) == ("command", OrderStatus.ISSUED)
    assert (publish.engine, publish.status) == ("openai", OrderStatus.PLANNED)
    assert publish.depends_on == [build.order_id]


def test_a_run_without_playbooks_fails_with_a_clear_reason(
    fleet: FleetDriver, tmp_path: Path
) -> None:
    task = fleet.receive("anything")

    plan_run(task, ledger=fleet.ledger, planner=RunPlanner(playbooks_dir=tmp_path / "none"))

    assert "set IRONCLAW_GARRISON_DIR" in (fleet.ledger.get_run(task.run_id).reason or "")


def test_a_run_cancelled_before_planning_is_cancelled_not_planned(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    task = fleet.receive(orders=[order("only")])
    cancel = ev.RunCancelRequested(run_id=task.run_id, requested_by="alice")
    fleet.ledger.append(task.run_id, [cancel], expected_version=1)

    assert plan_run(task, ledger=fleet.ledger, planner=planner) == "cancelled"

    assert fleet.ledger.get_run(task.run_id).status == RunStatus.CANCELLED
    assert fleet.orders(task.run_id) == {}


def test_a_run_the_ledger_does_not_know_is_left_alone(
    fleet: FleetDriver, planner: RunPlanner
) -> None:
    task = fleet.receive(orders=[order("only")])
    unknown = task.model_copy(update={"run_id": "run_00000000000000000000000000"})

    assert plan_run(unknown, ledger=fleet.ledger, planner=planner) == "missing"
