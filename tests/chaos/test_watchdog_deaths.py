"""The watchdogs die too: the active duty officer SIGKILLed is noticed by the sentinel within two
of its patrol intervals, a standby takes the watch under a higher fence, and the runs it has to
rescue (their worker killed at the same moment) still converge."""

from __future__ import annotations

from chaos_checks import DUTY_STALE_AFTER_S, SENTINEL_INTERVAL_S, assert_converged
from fleet import Fleet

from ironclaw.contracts import events as ev
from ironclaw.contracts.events import StoredEvent

BUDGET = {"heartbeat_timeout_s": 6, "claim_timeout_s": 10, "retries": 3, "ttl_s": 300}


def of_type(fleet: Fleet, stream: str, event_type: str) -> list[StoredEvent]:
    try:
        events = fleet.ledger.read_stream(stream).events
    except Exception:  # the stream does not exist yet
        return []
    return [e for e in events if e.type == event_type]


def duty_heartbeats(fleet: Fleet) -> list[StoredEvent]:
    return of_type(fleet, ev.patrol_stream("duty"), "PatrolCompleted")


def test_the_active_duty_officer_killed_a_standby_takes_over_and_runs_converge(
    chaos_fleet: Fleet,
) -> None:
    run_ids = []
    for index in range(3):
        order = {
            "key": "step",
            "objective": f"write d{index}",
            "commands": [f"sleep 4 && echo {index} > duty-{index}.txt"],
            "budget": BUDGET,
        }
        accepted = chaos_fleet.post("/runs", {"message": f"duty {index}", "orders": [order]})
        assert accepted.status_code == 202, accepted.text
        run_ids.append(accepted.json()["run_id"])
    chaos_fleet.wait_until(
        lambda: len(list(chaos_fleet.ledger.iter_orders(statuses=["running"]))) == 3,
        90,
        "the units running",
    )
    last = ev.PatrolCompleted.model_validate(duty_heartbeats(chaos_fleet)[-1].data)
    active = next(
        name
        for name in ("duty", "duty-standby")
        if last.holder.endswith(f":{chaos_fleet.processes[name].pid}")
    )

    chaos_fleet.kill(active)
    chaos_fleet.kill("worker")  # its units now need the duty officer that was just killed
    chaos_fleet.start("worker")
    (failover,) = chaos_fleet.wait_until(
        lambda: of_type(chaos_fleet, ev.patrol_stream("sentinel"), "DutyFailover"),
        60,
        "the sentinel's failover",
    )

    stale_holder = failover.data["stale_holder"]
    assert stale_holder == last.holder
    last_beat = max(
        e.recorded_at for e in duty_heartbeats(chaos_fleet) if e.data["holder"] == stale_holder
    )
    noticed_after_stale_s = (failover.recorded_at - last_beat).total_seconds() - DUTY_STALE_AFTER_S
    assert noticed_after_stale_s <= 2 * SENTINEL_INTERVAL_S, "noticed within two intervals"
    takeover = chaos_fleet.wait_until(
        lambda: [
            e
            for e in duty_heartbeats(chaos_fleet)
            if e.data["holder"] != stale_holder and e.position > failover.position
        ],
        30,
        "the standby's first patrol",
    )[0]
    assert takeover.data["fence"] > (last.fence or 0), "the standby patrols under a new fence"

    runs = assert_converged(chaos_fleet, run_ids)
    assert [run.status for run in runs] == ["completed"] * 3
    for run in runs:
        (summary,) = run.orders
        assert chaos_fleet.ledger.get_order(summary.order_id).attempt >= 2
