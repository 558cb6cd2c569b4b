"""The openai engine against a scripted endpoint that fails, loops and talks too much: retries
with backoff and Retry-After, a bounded context, and the Order's budgets stopping the unit."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from openai_server import text_reply, tool_call
from structlog.testing import capture_logs

from ironclaw.contracts import events as ev
from ironclaw.contracts.models import OrderBudget
from ironclaw.worker.adapters.engines.conversation import message_size
from ironclaw.worker.adapters.engines.model_calls import retry_after_s
from ironclaw.worker.domain.execute import execute_order

FINISH = tool_call("finish", {"summary": "Done", "outcome": "completed"})


def settled(ledger_client, order_id):
    return ledger_client.read_stream(order_id).events[-1]


def quick(settings, **values):
    """Settings that back off briefly, so a test of retries does not wait long."""
    return settings.model_copy(update={"llm_retry_backoff_s": 0.01, **values})


def test_a_rate_limited_call_is_retried_after_what_retry_after_asks(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.status_codes.extend([429, 503])
    model.retry_after = "0.2"
    model.queue(FINISH)
    message = issue_order()

    with capture_logs() as logs:
        outcome = execute_order(message, make_services(quick(model_settings)))

    assert outcome == "completed"
    assert len(model.requests) == 3  # 429, 503, then the answer
    retries = [line for line in logs if line["event"] == "worker.model.retrying"]
    assert [(r["status"], r["wait_s"]) for r in retries] == [(429, 0.2), (503, 0.2)]
    assert settled(ledger_client, message.order_id).data["aar"]["tokens"]["input"] == 100


def test_server_errors_past_the_retries_fail_the_order_as_retryable(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.status_codes.extend([500] * 10)
    message = issue_order()

    settings = quick(model_settings, llm_max_retries=2)
    assert execute_order(message, make_services(settings)) == "failed"

    assert len(model.requests) == 3
    failed = settled(ledger_client, message.order_id).data
    assert failed["reason"].startswith("the model endpoint failed: ")
    assert failed["retryable"] is True


def test_a_refused_request_is_not_retried(
    model_endpoint, model_settings, issue_order, make_services
):
    _, model = model_endpoint
    model.status_codes.extend([400, 400])

    assert execute_order(issue_order(), make_services(quick(model_settings))) == "failed"

    assert len(model.requests) == 1


def test_a_slow_endpoint_times_out_and_is_retried(
    model_endpoint, model_settings, issue_order, make_services
):
    _, model = model_endpoint
    model.delay_s = 1.5
    settings = quick(model_settings, llm_request_timeout_s=1.0, llm_max_retries=1)

    assert execute_order(issue_order(), make_services(settings)) == "failed"

    assert len(model.requests) == 2


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds_milliseconds_or_as_a_date(headers, expected):
    response = httpx.Response(429, headers=headers, request=httpx.Request("POST", "http://m/v1"))
    error = openai.RateLimitError("slow down", response=response, body=None)
    assert retry_after_s(error) == expected


def test_long_tool_results_are_clipped_with_a_marker(
    model_endpoint, model_settings, issue_order, make_services
):
    _, model = model_endpoint
    big = "".join(f"line {n}\n" for n in range(5_000))
    model.queue(
        tool_call("write_file", {"path": "big.txt", "content": big}),
        tool_call("read_file", {"path": "big.txt"}),
        FINISH,
    )
    settings = model_settings.model_copy(update={"llm_tool_result_max_chars": 1000})

    assert execute_order(issue_order(), make_services(settings)) == "completed"

    answer = model.requests[-1]["messages"][-1]["content"]
    assert "characters truncated ...]" in answer
    assert answer.startswith("line 0\n")
    assert answer.endswith("line 4999\n")
    assert len(answer) < 1100


def test_the_oldest_turns_are_dropped_once_the_context_is_full(
    model_endpoint, model_settings, issue_order, make_services
):
    _, model = model_endpoint
    model.queue(*[tool_call("list_files", {}) for _ in range(12)], FINISH)
    settings = model_settings.model_copy(update={"llm_context_max_chars": 3000})

    assert execute_order(issue_order(), make_services(settings)) == "completed"

    last = model.requests[-1]["messages"]
    assert [m["role"] for m in last[:3]] == ["system", "user", "user"]
    assert "earlier messages were dropped" in last[2]["content"]
    assert last[3]["role"] == "assistant"  # whole turns go: no tool answer without its call
    assert len(last) < 2 + 2 * 12  # fewer than all twelve turns
    assert all(sum(message_size(m) for m in r["messages"]) <= 3000 for r in model.requests)


def test_a_model_that_loops_forever_is_stopped_by_the_tool_call_budget(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = tool_call("list_files", {})
    message = issue_order(budget=OrderBudget(tool_calls=5))

    assert execute_order(message, make_services(model_settings)) == "failed"

    events = ledger_client.read_stream(message.order_id).events
    failed = events[-1].data
    assert failed["reason"].startswith("budget_exceeded:tool_calls")
    assert failed["aar"]["tool_calls"] == 5
    assert sum(e.type == "ToolCalled" for e in events) == 5
    assert len(model.requests) == 6


def test_a_cost_budget_stops_the_unit_before_the_next_call(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = tool_call("list_files", {})
    settings = model_settings.model_copy(
        update={"llm_input_cost_per_1k": 1.0, "llm_output_cost_per_1k": 2.0}
    )
    message = issue_order(budget=OrderBudget(cost_usd=0.3))

    assert execute_order(message, make_services(settings)) == "failed"

    failed = settled(ledger_client, message.order_id).data
    assert failed["reason"] == "budget_exceeded:cost_usd (0.42 > 0.3)"  # 3 calls at $0.14
    assert failed["aar"]["cost_usd"] == pytest.approx(0.42)
    run = ledger_client.get_run(message.run_id)
    assert run.cost_usd == pytest.approx(0.42)
    assert run.tokens.total == 360


def test_the_wall_time_budget_stops_the_unit(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.delay_s = 0.4
    model.default = text_reply("still thinking")
    message = issue_order(budget=OrderBudget(ttl_s=1))

    assert execute_order(message, make_services(model_settings)) == "failed"

    reason = settled(ledger_client, message.order_id).data["reason"]
    assert reason == "budget_exceeded:wall_time (the order's TTL is 1 s)"


def test_cancelling_kills_the_command_the_model_is_running(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, tmp_path: Path
):
    _, model = model_endpoint
    pid_file = tmp_path / "sleeper.pid"
    sleeper = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    model.queue(tool_call("run_command", {"command": ["python3", "-c", sleeper]}), FINISH)
    message = issue_order()

    def cancel_once_running() -> None:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ledger_client.append(
            message.order_id,
            [ev.OrderCancelled(order_id=message.order_id, run_id=message.run_id)],
            expected_version=None,
        )

    canceller = threading.Thread(target=cancel_once_running)
    canceller.start()
    outcome = execute_order(message, make_services(model_settings, heartbeat_interval_s=0.2))
    canceller.join()

    assert outcome == "refused"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


@pytest.mark.timeout(120)  # without the cancel ending the wait, it would last 600 s
def test_a_cancel_ends_a_wait_for_retry_after(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.status_codes.extend([429] * 3)
    model.retry_after = "600"
    message = issue_order()

    def cancel_once_asked() -> None:
        deadline = time.monotonic() + 30
        while not model.requests:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ledger_client.append(
            message.order_id,
            [ev.OrderCancelled(order_id=message.order_id, run_id=message.run_id)],
            expected_version=None,
        )

    canceller = threading.Thread(target=cancel_once_asked)
    canceller.start()
    settings = model_settings.model_copy(update={"llm_retry_after_max_s": 600.0})
    outcome = execute_order(message, make_services(settings, heartbeat_interval_s=0.2))
    canceller.join()

    assert outcome == "refused"
    assert len(model.requests) == 1
