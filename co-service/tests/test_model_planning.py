"""METE with a model: `submit_plan` forced, plans checked, one corrective retry, then fallback.

The model is a real HTTP server speaking the chat-completions protocol from a script; the
planner reaches it through the openai SDK, as it reaches any OpenAI-compatible endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openai_server import ScriptedModel, free_port, text_reply, tool_call

from ironclaw.co.config import Settings
from ironclaw.co.domain.planning import plan_run
from ironclaw.co.tasks import run_planner
from ironclaw.contracts.models import OrderStatus, RunStatus

if TYPE_CHECKING:  # the `fleet` fixture's class, from this folder's conftest.py
    from conftest import FleetDriver

Endpoint = tuple[str, ScriptedModel]
MODEL = "planner-model"


def settings_for(base_url: str, playbooks: Path) -> Settings:
    return Settings(
        llm_base_url=base_url,
        llm_model=MODEL,
        garrison_dir=playbooks.parent,
        planner_timeout_s=5,
        planner_max_retries=0,
    )


@contextmanager
def planning(fleet: FleetDriver, settings: Settings, message: str) -> Iterator[str]:
    """Receive a Run, plan it with the model of `settings`; yields the run id."""
    task = fleet.receive(message)
    with run_planner(settings) as planner:
        plan_run(task, ledger=fleet.ledger, planner=planner)
    yield task.run_id


def proposal(*orders: dict[str, Any], rationale: str = "two steps") -> dict[str, Any]:
    return {"orders": list(orders), "rationale": rationale}


def proposed(key: str, *depends_on: str) -> dict[str, Any]:
    return {
        "key": key,
        "objective": f"{key} the thing",
        "success_criteria": [f"{key} done"],
        "depends_on": list(depends_on),
    }


GOOD = proposal(proposed("schema"), proposed("api", "schema"))


def test_the_model_plans_through_a_forced_submit_plan_tool(
    fleet: FleetDriver, model_endpoint: Endpoint, shipped_playbooks: Path
) -> None:
    base_url, model = model_endpoint
    model.queue(tool_call("submit_plan", GOOD))

    with planning(fleet, settings_for(base_url, shipped_playbooks), "Add an API") as run_id:
        plan = fleet.planned(run_id)

    (request,) = model.requests
    assert request["model"] == MODEL
    (tool,) = request["tools"]
    assert tool["function"]["name"] == "submit_plan"
    assert {"orders", "rationale"} <= set(tool["function"]["parameters"]["properties"])
    assert request["tool_choice"] == {"type": "function", "function": {"name": "submit_plan"}}
    assert "Add an API" in request["messages"][-1]["content"]
    assert (plan.planner, plan.rationale) == (f"model:{MODEL}", "two steps")
    orders = fleet.orders(run_id)
    assert orders["api"].depends_on == [orders["schema"].order_id]
    assert orders["api"].success_criteria == ["api done"]
    assert (orders["schema"].status, orders["api"].status) == ("issued", "planned")
    assert fleet.types(run_id)[1] == "RunPlanningStarted"
    assert fleet.events(run_id)[1].data["planner"] == f"model:{MODEL}"


@pytest.mark.parametrize(
    ("invalid", "error"),
    [
        (proposal(proposed("a", "b"), proposed("b", "a")), "cycle: a -> b -> a"),
        (proposal(proposed("a", "ghost")), "order 'a' depends on unknown key 'ghost'"),
        (proposal(proposed("Not A Key")), "orders.0.key: String should match pattern"),
    ],
    ids=["cycle", "unknown-dependency", "bad-key"],
)
def test_an_invalid_plan_is_sent_back_once_with_the_error_then_accepted(
    fleet: FleetDriver,
    model_endpoint: Endpoint,
    shipped_playbooks: Path,
    invalid: dict[str, Any],
    error: str,
) -> None:
    base_url, model = model_endpoint
    model.queue(tool_call("submit_plan", invalid, "call_bad"), tool_call("submit_plan", GOOD))

    with planning(fleet, settings_for(base_url, shipped_playbooks), "Add an API") as run_id:
        plan = fleet.planned(run_id)

    first, second = model.requests
    assert second["tool_choice"] == first["tool_choice"]
    echoed, result = second["messages"][-2:]
    assert echoed["role"] == "assistant"
    assert echoed["tool_calls"][0]["id"] == "call_bad"
    assert json.loads(echoed["tool_calls"][0]["function"]["arguments"]) == invalid
    assert result["role"] == "tool"
    assert result["tool_call_id"] == "call_bad"
    assert error in result["content"]
    assert plan.planner == f"model:{MODEL}"
    assert "accepted on attempt 2" in plan.rationale
    assert sorted(fleet.orders(run_id)) == ["api", "schema"]


def test_a_reply_without_the_tool_call_is_corrected_as_a_user_message(
    fleet: FleetDriver, model_endpoint: Endpoint, shipped_playbooks: Path
) -> None:
    base_url, model = model_endpoint
    model.queue(text_reply("Sure! Here is my plan..."), tool_call("submit_plan", GOOD))

    with planning(fleet, settings_for(base_url, shipped_playbooks), "Add an API") as run_id:
        assert fleet.planned(run_id).planner == f"model:{MODEL}"

    correction = model.requests[1]["messages"][-1]
    assert correction["role"] == "user"
    assert "without calling submit_plan" in correction["content"]


def test_a_plan_invalid_twice_falls_back_to_the_playbooks_saying_why(
    fleet: FleetDriver, model_endpoint: Endpoint, shipped_playbooks: Path
) -> None:
    base_url, model = model_endpoint
    cycle = proposal(proposed("a", "b"), proposed("b", "a"))
    model.queue(tool_call("submit_plan", cycle), tool_call("submit_plan", cycle))

    message = "Fix the crash on empty input"
    with planning(fleet, settings_for(base_url, shipped_playbooks), message) as run_id:
        plan = fleet.planned(run_id)

    assert len(model.requests) == 2
    assert plan.planner == "playbook:bugfix@1"
    assert plan.rationale.startswith(
        "model planning failed (the model's plan was invalid twice; last: the dependencies "
        "form a cycle: a -> b -> a); fell back to the playbook matcher: classified as bugfix"
    )
    (only,) = fleet.orders(run_id).values()
    assert (only.status, only.engine) == (OrderStatus.ISSUED, "openai")


def test_a_model_that_cannot_be_reached_falls_back_to_the_playbooks(
    fleet: FleetDriver, shipped_playbooks: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/v1"

    with planning(fleet, settings_for(nobody, shipped_playbooks), "Add a page") as run_id:
        plan = fleet.planned(run_id)

    assert plan.planner == "playbook:feature@1"
    assert "model planning failed (APIConnectionError" in plan.rationale
    assert fleet.ledger.get_run(run_id).status == RunStatus.EXECUTING


def test_a_failed_model_and_no_playbooks_fail_the_run_with_both_reasons(
    fleet: FleetDriver, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/v1"

    with planning(fleet, settings_for(nobody, tmp_path / "playbooks"), "Add a page") as run_id:
        run = fleet.ledger.get_run(run_id)

    assert run.status == RunStatus.FAILED
    assert (run.reason or "").startswith("planning failed: model planning failed (APIConnection")
    assert "no playbooks: " in (run.reason or "")


def test_a_model_answering_errors_falls_back_to_the_playbooks(
    fleet: FleetDriver, model_endpoint: Endpoint, shipped_playbooks: Path
) -> None:
    base_url, model = model_endpoint
    model.status_codes.extend([503])

    with planning(fleet, settings_for(base_url, shipped_playbooks), "Add a page") as run_id:
        plan = fleet.planned(run_id)

    assert len(model.requests) == 1
    assert plan.planner == "playbook:feature@1"
    assert "InternalServerError" in plan.rationale or "503" in plan.rationale


def test_explicit_orders_and_playbooks_never_ask_the_model(
    fleet: FleetDriver, model_endpoint: Endpoint, shipped_playbooks: Path
) -> None:
    base_url, model = model_endpoint
    settings = settings_for(base_url, shipped_playbooks)
    task = fleet.receive("Fix the docs", playbook="docs")

    with run_planner(settings) as planner:
        plan_run(task, ledger=fleet.ledger, planner=planner)

    assert model.requests == []
    assert fleet.planned(task.run_id).planner == "playbook:docs@1"
