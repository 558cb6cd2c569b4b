"""Services are disposable too: the integrator killed mid-promotion, the ledger killed and
restarted mid-run, and Redis flushed with messages in it — every run still converges."""

from __future__ import annotations

import time
from pathlib import Path

import redis
from chaos_checks import assert_converged, mainline
from fleet import Fleet

from ironclaw.contracts.kit.git import git

BUDGET = {"heartbeat_timeout_s": 6, "claim_timeout_s": 10, "retries": 3, "ttl_s": 300}
SLOW_GATE_S = 4


def command_run(fleet: Fleet, name: str, command: str, theater: str = "default") -> str:
    order = {"key": "step", "objective": f"write {name}", "commands": [command], "budget": BUDGET}
    body = {"message": f"chaos {name}", "theater": theater, "orders": [order]}
    accepted = fleet.post("/runs", body)
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["run_id"])


def orders_in(fleet: Fleet, status: str) -> int:
    return len(list(fleet.ledger.iter_orders(statuses=[status])))


def slow_gate_theater(fleet: Fleet, tmp_path: Path) -> str:
    source = tmp_path / "slow-gate"
    source.mkdir()
    git(source, "init", "-b", "main")
    (source / ".ironclaw.toml").write_text(
        f'[[gates]]\nname = "slow"\nrun = "sleep {SLOW_GATE_S} && echo gate passed"\n'
        "timeout_s = 60\n"
    )
    git(source, "add", "-A")
    git(source, "commit", "-m", "a theater whose gate takes a while")
    created = fleet.post("/theaters", {"name": "slowgate", "source": str(source)})
    assert created.status_code == 201, created.text
    return "slowgate"


def test_the_integrator_killed_mid_promotion_integrates_the_order_once(
    chaos_fleet: Fleet, tmp_path: Path
) -> None:
    theater = slow_gate_theater(chaos_fleet, tmp_path)
    repository = mainline(chaos_fleet, theater)
    run_ids = []
    # First killed while its gate runs; then the moment the mainline moves (the window between
    # the compare-and-set update of the ref and the Integrated event).
    for index, kill_when in enumerate(("in_gate", "mainline_moved")):
        head = git(repository, "rev-parse", "main")
        run_id = command_run(
            chaos_fleet, f"p{index}", f"echo {index} > promoted-{index}.txt", theater
        )
        run_ids.append(run_id)
        chaos_fleet.wait_until(
            lambda: orders_in(chaos_fleet, "integrating") == 1, 90, "the promotion to start"
        )
        if kill_when == "in_gate":
            time.sleep(SLOW_GATE_S / 2)
        else:
            chaos_fleet.wait_until(
                lambda before=head: git(repository, "rev-parse", "main") != before,
                60,
                "the mainline to move",
            )
        chaos_fleet.kill("integration")
        chaos_fleet.start("integration")
        assert_converged(chaos_fleet, [run_id], theater=theater)

    runs = assert_converged(chaos_fleet, run_ids, theater=theater)
    assert [run.status for run in runs] == ["completed", "completed"]
    for index in range(2):
        assert git(repository, "show", f"main:promoted-{index}.txt") == str(index)


def test_the_ledger_killed_and_restarted_mid_run_loses_nothing(chaos_fleet: Fleet) -> None:
    run_ids = [
        command_run(chaos_fleet, f"l{index}", f"sleep 3 && echo {index} > ledger-{index}.txt")
        for index in range(3)
    ]
    chaos_fleet.wait_until(lambda: orders_in(chaos_fleet, "running") == 3, 90, "units running")

    chaos_fleet.kill("ledger")
    time.sleep(3)  # the units finish their commands and find the ledger gone
    chaos_fleet.start("ledger")

    runs = assert_converged(chaos_fleet, run_ids)
    assert [run.status for run in runs] == ["completed"] * 3
    for index in range(3):
        assert git(mainline(chaos_fleet), "show", f"main:ledger-{index}.txt") == str(index)


def test_redis_flushed_with_messages_in_it_the_duty_officer_redrives_them(
    chaos_fleet: Fleet,
) -> None:
    broker = redis.Redis.from_url(chaos_fleet.env["IRONCLAW_BROKER_URL"])
    chaos_fleet.kill("co")
    chaos_fleet.kill("worker")
    run_ids = [
        command_run(chaos_fleet, f"r{index}", f"echo {index} > redis-{index}.txt")
        for index in range(4)
    ]
    chaos_fleet.wait_until(lambda: broker.llen("co") >= 4, 30, "co.plan_run messages queued")
    broker.flushdb()  # the planner's messages are gone
    chaos_fleet.start("co")
    chaos_fleet.wait_until(
        lambda: orders_in(chaos_fleet, "issued") == 4, 90, "the runs planned after all"
    )
    chaos_fleet.wait_until(lambda: broker.llen("worker") >= 4, 30, "execute messages queued")
    broker.flushdb()  # now the workers' messages are gone too
    chaos_fleet.start("worker")

    runs = assert_converged(chaos_fleet, run_ids)
    assert [run.status for run in runs] == ["completed"] * 4
    for run in runs:
        (summary,) = run.orders
        order = chaos_fleet.ledger.get_order(summary.order_id)
        assert order.attempt == 1, "a lost message is re-sent, not the attempt reissued"
    broker.close()
