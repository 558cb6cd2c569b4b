"""A Run's budget is shared by its Orders: an attempt spends only what the Run has left, and
none starts once it is spent."""

from __future__ import annotations

from openai_server import tool_call

from ironclaw.contracts.models import RunBudget
from ironclaw.worker.domain.execute import execute_order


def settled_data(ledger_client, order_id):
    return ledger_client.read_stream(order_id).events[-1]


def test_an_attempt_stops_where_the_runs_token_budget_ends(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = tool_call("list_files", {"path": "."})  # never finishes on its own
    message = issue_order("look around", run_budget=RunBudget(tokens=300))

    assert execute_order(message, make_services(model_settings)) == "failed"

    failed = settled_data(ledger_client, message.order_id)
    assert failed.type == "OrderFailed"
    assert failed.data["reason"].startswith("budget_exceeded:tokens (360 > 300)")
    assert len(model.requests) == 3  # 120 tokens per call: the third one crossed the line


def test_no_attempt_starts_once_the_run_has_spent_its_budget(
    model_endpoint, model_settings, issue_order, make_services, ledger_client
):
    _, model = model_endpoint
    model.default = tool_call("list_files", {"path": "."})
    first = issue_order("spend it", run_budget=RunBudget(tokens=200))
    assert execute_order(first, make_services(model_settings)) == "failed"
    spent = ledger_client.get_run(first.run_id).tokens.total
    assert spent >= 200
    calls = len(model.requests)

    second = issue_order("more", key="more", run_id=first.run_id)
    assert execute_order(second, make_services(model_settings)) == "failed"

    failed = settled_data(ledger_client, second.order_id)
    assert failed.data["reason"] == f"budget_exceeded:run_tokens ({spent} of 200 used)"
    assert failed.data["retryable"] is False
    assert len(model.requests) == calls  # not one more model call
    assert ledger_client.get_order(second.order_id).attempts[0].worktree is None
