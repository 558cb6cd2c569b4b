"""Units are disposable: a worker SIGKILLed mid-engine loses no run, and a slow unit that still
signals is left alone."""

from __future__ import annotations

import re
from typing import Any

from chaos_checks import assert_converged, mainline
from fleet import Fleet
from openai_server import Reply, ScriptedModel, tool_call

from ironclaw.contracts.kit.git import git

RUNS = 10
# Short enough that a dead unit is noticed within seconds, long enough for a loaded machine.
BUDGET = {"heartbeat_timeout_s": 6, "claim_timeout_s": 10, "retries": 3, "ttl_s": 300}
FILE_NAME = re.compile(r"chaos-\d+\.txt")


def write_the_named_file(request: dict[str, Any]) -> Reply:
    """The engine's script: write the file its objective names, then finish."""
    conversation = " ".join(str(m.get("content") or "") for m in request["messages"])
    turns = sum(1 for m in request["messages"] if m.get("role") == "tool")
    if turns == 0:
        name = FILE_NAME.search(conversation)
        assert name is not None, conversation[:500]
        return tool_call("write_file", {"path": name.group(), "content": f"{name.group()}\n"})
    return tool_call("finish", {"summary": "wrote it", "outcome": "completed"})


def submit(fleet: Fleet, index: int) -> str:
    order = {"key": "write", "objective": f"write chaos-{index}.txt", "budget": BUDGET}
    accepted = fleet.post("/runs", {"message": f"chaos run {index}", "orders": [order]})
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["run_id"])


def running_orders(fleet: Fleet) -> int:
    return len(list(fleet.ledger.iter_orders(statuses=["running"])))


def test_a_worker_killed_mid_engine_in_ten_runs_loses_none_of_them(
    chaos_fleet: Fleet, model: ScriptedModel
) -> None:
    model.delay_s = 3.0  # every model turn takes 3 s: the units are mid-engine when killed
    model.default = write_the_named_file
    run_ids = [submit(chaos_fleet, index) for index in range(RUNS)]
    chaos_fleet.wait_until(
        lambda: running_orders(chaos_fleet) == RUNS, 90, f"all {RUNS} units running"
    )

    chaos_fleet.kill("worker")
    assert running_orders(chaos_fleet) == RUNS, "the kill came before any unit finished"
    chaos_fleet.start("worker")

    runs = assert_converged(chaos_fleet, run_ids)
    assert [run.status for run in runs] == ["completed"] * RUNS
    for run in runs:
        (summary,) = run.orders
        order = chaos_fleet.ledger.get_order(summary.order_id)
        assert order.attempt >= 2, "the killed attempt was reissued"
        assert order.attempts[0].status == "superseded"
    repository = mainline(chaos_fleet)
    for index in range(RUNS):
        assert git(repository, "show", f"main:chaos-{index}.txt") == f"chaos-{index}.txt"


def test_a_slow_unit_that_keeps_signalling_is_never_reissued(
    chaos_fleet: Fleet, model: ScriptedModel
) -> None:
    model.delay_s = 9.0  # each model turn outlasts the heartbeat timeout; the Signals go on
    model.default = write_the_named_file
    run_id = submit(chaos_fleet, 0)

    (run,) = assert_converged(chaos_fleet, [run_id])

    assert run.status == "completed"
    (summary,) = run.orders
    order = chaos_fleet.ledger.get_order(summary.order_id)
    assert order.attempt == 1
    assert [a.status for a in order.attempts] == ["integrated"]
    stream = [e.type for e in chaos_fleet.ledger.read_stream(order.order_id).events]
    assert "RecoveryRequired" not in stream
    assert stream.count("OrderIssued") == 1
    assert stream.count("SignalEmitted") >= 4, "it signalled through the slow turns"
