"""The openai engine's tool loop against a scripted OpenAI-compatible server, end to end:
real ledger, real git worktrees, real HTTP."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from openai_server import text_reply, tool_call, tool_calls

from ironclaw.contracts import events as ev
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import OrderBudget
from ironclaw.worker.adapters.engines.tool_schemas import TOOL_NAMES
from ironclaw.worker.domain.execute import execute_order


def settled(ledger_client, order_id):
    return ledger_client.read_stream(order_id).events[-1]


def tool_results(request: dict) -> list[str]:
    """What the engine told the model its tools returned, in order."""
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def worktree_of(ledger_client, order_id) -> Path:
    return Path(ledger_client.get_order(order_id).attempts[0].worktree or "")


def test_a_model_that_writes_a_file_and_finishes_completes_the_order(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, stream_types
):
    _, model = model_endpoint
    model.queue(
        tool_call("write_file", {"path": "src/hello.py", "content": "print('hello')\n"}),
        tool_call("finish", {"summary": "Add hello.py\n\nPrints hello.", "outcome": "completed"}),
    )
    message = issue_order("add src/hello.py printing hello")

    assert execute_order(message, make_services(model_settings)) == "completed"

    event = settled(ledger_client, message.order_id)
    assert event.type == "OrderCompleted"
    aar = event.data["aar"]
    assert aar["tokens"] == {"input": 200, "output": 40}  # two requests at (100, 20) each
    assert aar["changed_files"] == ["src/hello.py"]
    assert aar["tool_calls"] == 1
    assert aar["summary"] == "Add hello.py\n\nPrints hello."
    (commit,) = event.data["commits"]
    worktree = worktree_of(ledger_client, message.order_id)
    assert git(worktree, "show", f"{commit}:src/hello.py") == "print('hello')"
    assert git(worktree, "log", "-1", "--format=%B", commit).splitlines() == [
        "greet: Add hello.py",
        "",
        f"Run-Id: {message.run_id}",
        f"Order-Id: {message.order_id}",
        "Attempt: 1",
    ]
    assert ".ironclaw" not in git(worktree, "ls-tree", "-r", "--name-only", commit)
    assert (worktree / ".ironclaw" / "state.json").exists()
    assert "ToolCalled" in stream_types(message.order_id)
    first = model.requests[0]
    assert [tool["function"]["name"] for tool in first["tools"]] == list(TOOL_NAMES)
    assert first["model"] == "scripted"
    assert "add src/hello.py printing hello" in first["messages"][1]["content"]
    assert ledger_client.get_run(message.run_id).tokens.input == 200


def test_paths_outside_the_worktree_are_refused_and_the_loop_goes_on(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, outside, tmp_path
):
    _, model = model_endpoint
    make_link = f"import os; os.symlink({str(outside)!r}, 'escape')"
    model.queue(
        tool_call("write_file", {"path": "../outside.txt", "content": "x"}),
        tool_call("write_file", {"path": str(outside / "abs.txt"), "content": "x"}),
        tool_call("run_command", {"command": ["python3", "-c", make_link]}),
        tool_calls(
            [
                ("write_file", {"path": "escape/via-link.txt", "content": "x"}),
                ("edit_file", {"path": "escape/../../outside.txt", "old": "a", "new": "b"}),
                ("read_file", {"path": "/etc/hostname"}),
                ("write_file", {"path": ".git/hooks/pre-commit", "content": "x"}),
                ("write_file", {"path": ".ironclaw/task.md", "content": "x"}),
            ]
        ),
        tool_call("write_file", {"path": "inside.txt", "content": "fine\n"}),
        tool_call("finish", {"summary": "Tried to escape", "outcome": "completed"}),
    )
    message = issue_order()

    assert execute_order(message, make_services(model_settings)) == "completed"

    assert list(outside.iterdir()) == []
    assert not (tmp_path / "home" / "worktrees" / "default" / "outside.txt").exists()
    results = tool_results(model.requests[-1])
    assert results[0] == "error: refused: '../outside.txt' is outside the worktree"
    assert results[1].startswith("error: refused: ")
    assert "outside the worktree" in results[1]
    assert results[2].startswith("exit code 0")
    assert all("outside the worktree" in r for r in results[3:6]), results[3:6]
    assert all("may not be written" in r for r in results[6:8]), results[6:8]
    assert results[8] == "wrote 5 bytes to inside.txt"
    worktree = worktree_of(ledger_client, message.order_id)
    assert (worktree / ".ironclaw" / "task.md").read_text() != "x"
    refused = [
        e.data for e in ledger_client.read_stream(message.order_id).events
        if e.type == "ToolCalled" and e.data["refused"]
    ]  # fmt: skip
    assert len(refused) == 7


def test_run_command_refuses_programs_off_the_allow_list(
    model_endpoint, model_settings, issue_order, make_services
):
    _, model = model_endpoint
    model.queue(
        tool_calls(
            [
                ("run_command", {"command": ["curl", "http://example.com"]}),
                ("run_command", {"command": "bash -c 'echo hi'"}),
                ("run_command", {"command": ["/bin/echo", "hi"]}),
                ("run_command", {"command": ["python3", "-c", "print(6 * 7)"]}),
            ]
        ),
        tool_call("finish", {"summary": "Ran things", "outcome": "completed"}),
    )

    assert execute_order(issue_order(), make_services(model_settings)) == "completed"

    results = tool_results(model.requests[-1])
    assert results[0].startswith("error: refused: program 'curl' is not allowed; allowed programs:")
    assert results[1].startswith("error: refused: program 'bash' is not allowed")
    assert results[2].startswith("error: refused: program '/bin/echo' is not allowed")
    assert results[3] == "exit code 0\n42\n"


def test_edit_file_replaces_exactly_one_occurrence(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.queue(
        tool_call("write_file", {"path": "a.txt", "content": "one two two\n"}),
        tool_calls(
            [
                ("edit_file", {"path": "a.txt", "old": "three", "new": "3"}),
                ("edit_file", {"path": "a.txt", "old": "two", "new": "2"}),
                ("edit_file", {"path": "a.txt", "old": "one", "new": "1"}),
                ("read_file", {"path": "a.txt"}),
                ("list_files", {}),
            ]
        ),
        tool_call("finish", {"summary": "Edited", "outcome": "completed"}),
    )
    message = issue_order()

    assert execute_order(message, make_services(model_settings)) == "completed"

    results = tool_results(model.requests[-1])
    assert results[1] == "error: the old text was not found in a.txt"
    assert results[2] == "error: the old text occurs 2 times in a.txt; include more context"
    assert results[3] == "edited a.txt"
    assert results[4] == "1 two two\n"
    # vault's `default` theater starts from one commit of an empty tree: no README.md
    assert results[5].splitlines() == [".ironclaw/", "a.txt", ".ironclaw/state.json",
                                       ".ironclaw/task.md"]  # fmt: skip


def test_heartbeats_are_emitted_while_the_model_is_slow(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.delay_s = 0.6
    model.queue(
        tool_call("write_file", {"path": "slow.txt", "content": "slow\n"}),
        tool_call("finish", {"summary": "Slowly", "outcome": "completed"}),
    )
    message = issue_order()

    services = make_services(model_settings, heartbeat_interval_s=0.2)
    assert execute_order(message, services) == "completed"

    events = ledger_client.read_stream(message.order_id).events
    signals = [e.data for e in events if e.type == "SignalEmitted"]
    assert len(signals) >= 3
    assert all(s["lease_s"] == 60 for s in signals)
    assert signals[-1]["tool_calls"] == 1
    assert signals[-1]["tokens"] == {"input": 100, "output": 20}
    assert signals[-1]["files_changed"] == 1
    types = [e.type for e in events]
    assert types.index("AttemptStarted") < types.index("SignalEmitted")
    assert types[-1] == "OrderCompleted"


def test_a_model_that_never_finishes_fails_at_the_turn_limit(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = text_reply("I am thinking about it.")
    settings = model_settings.model_copy(update={"llm_max_turns": 3})
    message = issue_order()

    assert execute_order(message, make_services(settings)) == "failed"

    event = settled(ledger_client, message.order_id)
    assert event.data["reason"] == "turn limit reached: 3 turns without `finish`"
    assert event.data["aar"]["tokens"] == {"input": 300, "output": 60}
    assert len(model.requests) == 3


def test_a_token_budget_stops_the_loop(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = tool_call("list_files", {})
    message = issue_order(budget=OrderBudget(tokens=250))

    assert execute_order(message, make_services(model_settings)) == "failed"

    reason = settled(ledger_client, message.order_id).data["reason"]
    assert reason == "budget_exceeded:tokens (360 > 250)"


def test_a_failing_model_endpoint_fails_the_order_as_retryable(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.status_codes.extend([500, 500, 500])
    settings = model_settings.model_copy(update={"llm_max_retries": 0})
    message = issue_order()
    started = time.monotonic()

    assert execute_order(message, make_services(settings)) == "failed"

    assert time.monotonic() - started < 10
    event = settled(ledger_client, message.order_id).data
    assert event["reason"].startswith("the model endpoint failed: ")
    assert event["retryable"] is True


def test_finish_with_blocked_appends_order_blocked(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.queue(
        tool_call("finish", {"summary": "nope", "outcome": "maybe"}),
        tool_call("finish", {"summary": "Need the API schema", "outcome": "blocked"}),
    )
    message = issue_order()

    assert execute_order(message, make_services(model_settings)) == "blocked"

    event = settled(ledger_client, message.order_id)
    assert event.type == "OrderBlocked"
    assert event.data["reason"] == "Need the API schema"
    assert event.data["aar"]["blockers"] == ["Need the API schema"]
    first_answer = tool_results(model.requests[-1])[0]
    assert first_answer.startswith("error: finish needs")
    assert json.dumps(model.requests[-1]).count("finish") >= 2


def test_a_cancelled_order_stops_its_unit_at_the_next_heartbeat(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, stream_types
):
    _, model = model_endpoint
    model.delay_s = 0.3
    model.default = tool_call("list_files", {})
    message = issue_order()

    def cancel_once_started() -> None:
        deadline = time.monotonic() + 20
        while "AttemptStarted" not in stream_types(message.order_id):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ledger_client.append(
            message.order_id,
            [ev.OrderCancelled(order_id=message.order_id, run_id=message.run_id)],
            expected_version=None,
        )

    canceller = threading.Thread(target=cancel_once_started)
    canceller.start()
    started = time.monotonic()
    outcome = execute_order(message, make_services(model_settings, heartbeat_interval_s=0.2))
    canceller.join()

    assert outcome == "refused"
    assert time.monotonic() - started < 10
    assert ledger_client.get_order(message.order_id).status == "cancelled"
    assert "OrderFailed" not in stream_types(message.order_id)
