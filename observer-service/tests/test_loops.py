"""Looping attempts: alive units repeating one tool call without file changes, or frozen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ironclaw.contracts.events import RecoveryRequired, ToolCalled
from ironclaw.contracts.models import OrderBudget, TokenUsage
from ironclaw.observer.domain.loops import LoopRules

if TYPE_CHECKING:
    from conftest import Fleet

RULES = LoopRules(repeats=5, stale_signals=8, stale_min_s=300)
HEARTBEAT_TIMEOUT_S = 600  # long, so the unit is alive when the observer looks FROZEN_FOR_S later
FROZEN_FOR_S = 400  # past RULES.stale_min_s, within the heartbeat timeout
READ = '{"path": "src/app.py"}'


def recoveries(fleet: Fleet, order_id: str) -> list[RecoveryRequired]:
    events = fleet.ledger.read_stream(order_id).events
    return [RecoveryRequired.model_validate(e.data) for e in events if e.type == "RecoveryRequired"]


def running_order(fleet: Fleet) -> tuple[str, str]:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S))
    fleet.start(run_id, order_id, 1)
    return run_id, order_id


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_the_same_tool_call_repeated_without_file_changes_is_looping_once(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    fleet.tool_call(order_id, 1, "write_file", '{"path": "src/app.py"}', files=1)
    for _ in range(RULES.repeats):
        fleet.tool_call(order_id, 1, "read_file", READ, files=1)

    first = fleet.patrol(loops=RULES)
    second = fleet.patrol(loops=RULES)

    (recovery,) = recoveries(fleet, order_id)
    assert recovery.reason == "looping"
    assert recovery.attempt == 1
    assert f"same tool call {RULES.repeats} times" in recovery.detail
    assert "read_file" in recovery.detail
    assert fleet.order(order_id).recovery_reason is not None
    assert first.saw["looping"] == 1
    assert first.did == [f"recovery_required:{order_id}:1:looping"]
    assert second.saw["looping"] == 0  # once per attempt: the duty officer acts on it


def test_fewer_repeats_than_the_rule_are_not_looping(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    for _ in range(RULES.repeats - 1):
        fleet.tool_call(order_id, 1, "read_file", READ)

    cycle = fleet.patrol(loops=RULES)

    assert recoveries(fleet, order_id) == []
    assert cycle.saw["looping"] == 0


def test_the_same_tool_call_while_files_change_is_work_not_a_loop(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    for files in range(1, RULES.repeats * 2 + 1):
        fleet.tool_call(order_id, 1, "run_command", '{"command": "make codegen"}', files=files)

    cycle = fleet.patrol(loops=RULES)

    assert recoveries(fleet, order_id) == []
    assert cycle.saw["active"] == 1
    assert cycle.saw["looping"] == 0


def test_different_tool_calls_are_not_a_loop(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    for number in range(RULES.repeats * 2):
        fleet.tool_call(order_id, 1, "read_file", f'{{"path": "src/module_{number}.py"}}')

    fleet.patrol(loops=RULES)

    assert recoveries(fleet, order_id) == []


def test_only_the_current_attempts_calls_count(fleet: Fleet) -> None:
    run_id, order_id = running_order(fleet)
    for _ in range(RULES.repeats - 1):
        fleet.tool_call(order_id, 1, "read_file", READ)
    fleet.start(run_id, order_id, 2)  # reissued: attempt 2 starts over
    fleet.tool_call(order_id, 2, "read_file", READ)
    fleet.tool_call(order_id, 1, "read_file", READ)  # a late line from the superseded unit

    fleet.patrol(loops=RULES)

    assert recoveries(fleet, order_id) == []


def test_a_loop_at_the_end_of_a_long_attempt_is_found_in_the_streams_tail(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    for number in range(RULES.window * 2):
        fleet.tool_call(order_id, 1, "read_file", f'{{"path": "src/module_{number}.py"}}')
    for _ in range(RULES.repeats):
        fleet.tool_call(order_id, 1, "list_files", '{"path": "."}')

    fleet.patrol(loops=RULES)

    assert [r.reason for r in recoveries(fleet, order_id)] == ["looping"]


def frozen(count: int, **fields: Any) -> list[dict[str, Any]]:
    same = {"progress": 0.4, "tool_calls": 12, "files_changed": 3, "tokens": TokenUsage(input=900)}
    return [{**same, **fields} for _ in range(count)]


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_signals_frozen_across_the_rule_are_looping(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    fleet.tool_call(order_id, 1, "read_file", READ, files=3)
    fleet.signals(order_id, 1, frozen(RULES.stale_signals))

    cycle = fleet.patrol(FROZEN_FOR_S, loops=RULES)

    (recovery,) = recoveries(fleet, order_id)
    assert recovery.reason == "looping"
    assert f"no progress across the last {RULES.stale_signals} signals" in recovery.detail
    assert cycle.saw["looping"] == 1
    assert cycle.saw["stalled"] == 0


def test_fewer_frozen_signals_than_the_rule_are_a_long_step_not_a_loop(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    fleet.tool_call(order_id, 1, "read_file", READ, files=3)
    fleet.signals(order_id, 1, frozen(RULES.stale_signals - 1))

    fleet.patrol(FROZEN_FOR_S, loops=RULES)

    assert recoveries(fleet, order_id) == []


def test_frozen_signals_younger_than_the_time_floor_are_not_a_loop(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    fleet.signals(order_id, 1, frozen(RULES.stale_signals * 2))

    fleet.patrol(RULES.stale_min_s / 2, loops=RULES)

    assert recoveries(fleet, order_id) == []


@pytest.mark.parametrize(
    "moving",
    [
        lambda n: {"progress": n / 100},
        lambda n: {"tool_calls": n},
        lambda n: {"files_changed": n},
        lambda n: {"tokens": TokenUsage(input=100 * n, output=n)},
    ],
    ids=["progress", "tool_calls", "files_changed", "tokens"],
)
def test_signals_with_any_progress_are_a_slow_healthy_unit(fleet: Fleet, moving: Any) -> None:
    _, order_id = running_order(fleet)
    beats = [moving(n) for n in range(RULES.stale_signals * 3)]
    fleet.signals(order_id, 1, beats)

    cycle = fleet.patrol(FROZEN_FOR_S, loops=RULES)

    assert recoveries(fleet, order_id) == []
    assert cycle.did == []


def test_a_tool_call_among_unchanged_signals_is_progress(fleet: Fleet) -> None:
    _, order_id = running_order(fleet)
    fleet.signals(order_id, 1, frozen(RULES.stale_signals // 2))
    called = ToolCalled(
        order_id=order_id,
        attempt=1,
        tool="read_file",
        arguments_summary=READ,
        duration_ms=1,
        result_size=1,
    )
    fleet.ledger.append(order_id, [called], expected_version=None)
    fleet.signals(order_id, 1, frozen(RULES.stale_signals // 2))

    fleet.patrol(FROZEN_FOR_S, loops=RULES)

    assert recoveries(fleet, order_id) == []


def test_a_silent_unit_is_left_to_the_stall_check(fleet: Fleet, home: Path) -> None:
    run_id, order_id = fleet.planned_order(OrderBudget(heartbeat_timeout_s=10))
    worktree = fleet.start(run_id, order_id, 1)
    for _ in range(RULES.repeats):
        fleet.tool_call(order_id, 1, "read_file", READ)
    fleet.age_everything(worktree.path)

    fleet.patrol(60, loops=RULES)

    assert [r.reason for r in recoveries(fleet, order_id)] == ["stalled"]


def test_the_default_rules_come_from_the_settings() -> None:
    from ironclaw.observer.config import Settings

    rules = Settings(loop_repeats=7, loop_stale_signals=40, loop_stale_min_s=900).loop_rules()

    assert rules == LoopRules(repeats=7, stale_signals=40, stale_min_s=900)
    assert Settings().loop_rules() == LoopRules(repeats=5, stale_signals=30, stale_min_s=600)
