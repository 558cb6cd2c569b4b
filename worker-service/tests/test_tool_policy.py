"""The tool policy as a unit meets it: the theater's allow-list from `.ironclaw.toml` on its
mainline, device files and FIFOs refused, commands without the fleet's secrets."""

from __future__ import annotations

from openai_server import tool_call, tool_calls

from ironclaw.worker.domain.execute import execute_order

FINISH = tool_call("finish", {"summary": "Done", "outcome": "completed"})


def tool_results(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def refused_calls(ledger_client, order_id: str) -> list[dict]:
    events = ledger_client.read_stream(order_id).events
    return [e.data for e in events if e.type == "ToolCalled" and e.data["refused"]]


def test_the_theaters_allow_list_replaces_the_workers(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, commit_on_mainline
):
    commit_on_mainline({".ironclaw.toml": '[policy]\nallow = ["echo"]\n'})
    _, model = model_endpoint
    model.queue(
        tool_calls(
            [
                ("run_command", {"command": ["python3", "-c", "print(1)"]}),
                ("run_command", {"command": ["echo", "allowed"]}),
                ("read_file", {"path": ".ironclaw/task.md"}),
            ]
        ),
        FINISH,
    )
    message = issue_order()

    assert execute_order(message, make_services(model_settings)) == "completed"

    results = tool_results(model.requests[-1])
    assert results[0] == (
        "error: refused: program 'python3' is not allowed; allowed programs: echo"
    )
    assert results[1] == "exit code 0\nallowed\n"
    assert "- Programs you may run: echo.\n" in results[2]
    (refused,) = refused_calls(ledger_client, message.order_id)
    assert refused["tool"] == "run_command"
    assert "python3" in refused["arguments_summary"]


def test_an_unreadable_theater_config_fails_the_attempt(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, commit_on_mainline
):
    commit_on_mainline({".ironclaw.toml": '[policy]\nallow = ["/bin/sh -c"]\n'})
    message = issue_order()

    assert execute_order(message, make_services(model_settings)) == "failed"

    failed = ledger_client.read_stream(message.order_id).events[-1].data
    assert failed["reason"].startswith("invalid .ironclaw.toml: policy.allow names programs")
    assert failed["retryable"] is False


def test_fifos_and_device_files_are_refused(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.queue(
        tool_call("run_command", {"command": ["python3", "-c", "import os; os.mkfifo('pipe')"]}),
        tool_calls(
            [
                ("read_file", {"path": "pipe"}),
                ("write_file", {"path": "pipe", "content": "x"}),
                ("read_file", {"path": "/dev/zero"}),
            ]
        ),
        FINISH,
    )
    message = issue_order()

    assert execute_order(message, make_services(model_settings)) == "completed"

    results = tool_results(model.requests[-1])
    assert results[1] == "error: refused: 'pipe' is a device, FIFO or socket, not a file"
    assert results[2] == results[1]
    assert results[3] == "error: refused: '/dev/zero' is outside the worktree"
    assert len(refused_calls(ledger_client, message.order_id)) == 3


def test_commands_the_model_runs_get_no_fleet_secrets(
    model_endpoint, model_settings, issue_order, make_services, monkeypatch
):
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN", "fleet-secret-1")
    monkeypatch.setenv("OPENAI_API_KEY", "provider-secret-2")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "provider-secret-3")
    _, model = model_endpoint
    show = "import os; print(sorted(os.environ)); print(os.getcwd())"
    model.queue(tool_call("run_command", {"command": ["python3", "-c", show]}), FINISH)

    assert execute_order(issue_order(), make_services(model_settings)) == "completed"

    (result,) = tool_results(model.requests[-1])
    assert "PATH" in result
    assert "IRONCLAW" not in result
    assert "API_KEY" not in result
    assert result.strip().endswith("-1")  # the worktree is the cwd: <order_id>-<attempt>
