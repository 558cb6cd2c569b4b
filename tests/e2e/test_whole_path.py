"""The core promise, end to end: a chat message becomes a commit on the theater's mainline."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleet import Fleet
from model_scripts import agent, plan_of
from openai_server import ScriptedModel

from ironclaw.contracts.kit.git import git

GREETING = "hello from ironclaw\n"


def mainline(fleet: Fleet, theater: str = "default") -> Path:
    return fleet.home / "theaters" / theater


def test_a_chat_message_asking_for_a_file_lands_on_mainline(
    fleet: Fleet, model: ScriptedModel
) -> None:
    model.default = agent(
        plan_of({"key": "greeting", "objective": "Create hello.txt with a greeting"}),
        [("write_file", {"path": "hello.txt", "content": GREETING})],
        summary="Created hello.txt",
    )
    accepted = fleet.post("/chat", {"message": "Please add a hello.txt greeting file"})
    assert accepted.status_code == 202, accepted.text
    run = fleet.wait_for_run(accepted.json()["run_id"])
    assert run.status == "completed", run
    assert run.tokens.input > 0

    repo = mainline(fleet)
    assert git(repo, "show", "main:hello.txt") + "\n" == GREETING
    message = git(repo, "log", "-1", "--format=%B", "main")
    (order,) = run.orders
    assert f"Run-Id: {run.run_id}" in message
    assert f"Order-Id: {order.order_id}" in message
    assert "Attempt: 1" in message

    view = fleet.get(f"/orders/{order.order_id}").json()
    assert view["status"] == "integrated"
    aar = view["attempts"][-1]["aar"]
    assert aar["outcome"] == "completed"
    assert aar["tokens"]["input"] > 0
    assert "hello.txt" in aar["changed_files"]
    assert view["integration"]["merged_commit"] == git(repo, "rev-parse", "main")
    theater = fleet.get("/theaters/default").json()
    assert theater["head"] == view["integration"]["merged_commit"]


def command_orders(slow_first: bool) -> list[dict[str, object]]:
    delay = "sleep 2 && " if slow_first else ""
    return [
        {"key": "alpha", "objective": "write a", "commands": [f"{delay}echo a > alpha.txt"]},
        {"key": "beta", "objective": "write b", "commands": ["echo b > beta.txt"]},
        {
            "key": "gamma",
            "objective": "combine",
            "commands": ["cat alpha.txt beta.txt > gamma.txt"],
            "depends_on": ["alpha", "beta"],
        },
    ]


def test_command_orders_integrate_in_a_deterministic_order(fleet: Fleet) -> None:
    histories = []
    for attempt in range(3):
        accepted = fleet.post(
            "/runs",
            {
                "message": f"three steps, round {attempt}",
                "orders": command_orders(attempt % 2 == 0),
            },
        )
        assert accepted.status_code == 202, accepted.text
        run = fleet.wait_for_run(accepted.json()["run_id"])
        assert run.status == "completed", run
        assert {o.status for o in run.orders} == {"integrated"}
        subjects = git(mainline(fleet), "log", "--format=%s", "-3", "main").splitlines()
        histories.append([subject.split(":")[0] for subject in reversed(subjects)])
    assert histories == [["alpha", "beta", "gamma"]] * 3
    assert git(mainline(fleet), "show", "main:gamma.txt") == "a\nb"


def gated_theater(tmp_path: Path) -> Path:
    source = tmp_path / "gated-source"
    source.mkdir()
    git(source, "init", "-b", "main")
    (source / ".ironclaw.toml").write_text(
        '[[gates]]\nname = "no-forbidden-file"\nrun = "test ! -e forbidden.txt || '
        '(echo forbidden.txt must not exist >&2; exit 3)"\ntimeout_s = 30\n'
    )
    git(source, "add", "-A")
    git(source, "commit", "-m", "gated theater")
    return source


def test_a_failing_gate_leaves_mainline_untouched(fleet: Fleet, tmp_path: Path) -> None:
    created = fleet.post(
        "/theaters", {"name": "gated", "source": str(gated_theater(tmp_path)), "mainline": "main"}
    )
    assert created.status_code == 201, created.text
    head = created.json()["head"]
    accepted = fleet.post(
        "/runs",
        {
            "message": "break the rule",
            "theater": "gated",
            "orders": [{"key": "bad", "objective": "x", "commands": ["echo no > forbidden.txt"]}],
        },
    )
    run = fleet.wait_for_run(accepted.json()["run_id"])
    assert run.status == "failed"
    (order,) = run.orders
    view = fleet.get(f"/orders/{order.order_id}").json()
    assert view["status"] == "integration_failed"
    assert "forbidden.txt must not exist" in view["integration"]["output_tail"]
    artifact = fleet.home / "artifacts" / view["integration"]["artifact"]
    assert "forbidden.txt must not exist" in artifact.read_text()
    assert git(mainline(fleet, "gated"), "rev-parse", "main") == head


def test_a_model_writing_outside_its_worktree_is_refused(
    fleet: Fleet, model: ScriptedModel
) -> None:
    model.default = agent(
        plan_of({"key": "escape", "objective": "try to escape"}),
        [
            ("write_file", {"path": "../outside.txt", "content": "escaped"}),
            ("write_file", {"path": str(fleet.home / "outside.txt"), "content": "escaped"}),
            ("write_file", {"path": "inside.txt", "content": "stayed"}),
        ],
        summary="tried",
    )
    accepted = fleet.post("/chat", {"message": "write ../outside.txt"})
    run = fleet.wait_for_run(accepted.json()["run_id"])
    assert run.status == "completed", run
    found = subprocess.run(
        ["find", str(fleet.home), "-name", "outside.txt"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout == ""
    assert git(mainline(fleet), "show", "main:inside.txt") == "stayed"
