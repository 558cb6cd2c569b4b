from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from ironclaw.contracts import api
from ironclaw.contracts.events import NewEvent, RunIntegrating
from ironclaw.contracts.ids import new_id

RUN_ID = new_id("run")


# --- POST /chat ----------------------------------------------------------------------------------


def test_chat_request_defaults() -> None:
    request = api.ChatRequest.model_validate({"message": "fix the build"})

    assert request.theater == "default"
    assert request.wait_s == 0
    assert request.conversation_id is None


@pytest.mark.parametrize("length", [1, 20_000])
def test_chat_message_limits_accept(length: int) -> None:
    assert len(api.ChatRequest(message="x" * length).message) == length


@pytest.mark.parametrize("message", ["", "x" * 20_001])
def test_chat_message_limits_refuse(message: str) -> None:
    with pytest.raises(ValidationError, match="message"):
        api.ChatRequest(message=message)


def test_chat_message_is_required() -> None:
    with pytest.raises(ValidationError, match="message"):
        api.ChatRequest.model_validate({"theater": "default"})


@pytest.mark.parametrize("wait_s", [0, 0.5, 120])
def test_chat_wait_accepts_zero_to_120(wait_s: float) -> None:
    assert api.ChatRequest(message="hi", wait_s=wait_s).wait_s == wait_s


@pytest.mark.parametrize("wait_s", [-1, -0.001, 120.001, 600])
def test_chat_wait_refuses_out_of_range(wait_s: float) -> None:
    with pytest.raises(ValidationError, match="wait_s"):
        api.ChatRequest(message="hi", wait_s=wait_s)


def test_chat_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="mesage"):
        api.ChatRequest.model_validate({"message": "hi", "mesage": "typo"})


def test_chat_refuses_bad_theater() -> None:
    with pytest.raises(ValidationError, match="theater"):
        api.ChatRequest(message="hi", theater="Not A Theater")


def test_chat_parses_from_json() -> None:
    body = json.dumps({"message": "hi", "theater": "web", "wait_s": 30, "profile": "fast"})
    request = api.ChatRequest.model_validate_json(body)
    assert (request.theater, request.wait_s, request.profile) == ("web", 30, "fast")


# --- POST /runs ----------------------------------------------------------------------------------


def _submission(**overrides: Any) -> dict[str, Any]:
    return {
        "message": "bump deps and format",
        "theater": "default",
        "orders": [
            {"key": "bump", "objective": "bump dependencies", "commands": ["uv lock -U"]},
            {
                "key": "format",
                "objective": "format the code",
                "engine": "command",
                "depends_on": ["bump"],
                "success_criteria": ["ruff format --check passes"],
                "budget": {"ttl_s": 300},
            },
        ],
        **overrides,
    }


def test_run_submission_with_orders() -> None:
    submission = api.RunSubmission.model_validate(_submission())

    assert submission.orders is not None
    assert [order.key for order in submission.orders] == ["bump", "format"]
    assert submission.orders[1].depends_on == ["bump"]
    assert submission.orders[1].budget is not None
    assert submission.orders[1].budget.ttl_s == 300
    assert submission.orders[0].budget is None


def test_run_submission_without_orders_means_plan_it() -> None:
    assert api.RunSubmission(message="do it").orders is None


def test_run_submission_refuses_an_empty_order_list() -> None:
    with pytest.raises(ValidationError, match="orders"):
        api.RunSubmission.model_validate(_submission(orders=[]))


@pytest.mark.parametrize(
    ("order", "field"),
    [
        ({"key": "Bad Key", "objective": "x"}, "key"),
        ({"key": "ok", "objective": ""}, "objective"),
        ({"key": "ok", "objective": "x", "depends": ["a"]}, "depends"),
        ({"key": "ok", "objective": "x", "budget": {"ttl_s": 0}}, "ttl_s"),
    ],
)
def test_run_submission_refuses_bad_orders(order: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        api.RunSubmission.model_validate(_submission(orders=[order]))


# --- ledger: POST /events ------------------------------------------------------------------------


def _append(**overrides: Any) -> dict[str, Any]:
    event = NewEvent.of(RunIntegrating(run_id=RUN_ID))
    return {
        "stream_id": RUN_ID,
        "expected_version": 0,
        "events": [event.model_dump(mode="json")],
        **overrides,
    }


@pytest.mark.parametrize(
    "stream_id", [RUN_ID, new_id("ord"), "theater-default", "patrol-global", "theater-a_b.c:d"]
)
def test_append_accepts_stream_ids(stream_id: str) -> None:
    assert api.AppendRequest.model_validate(_append(stream_id=stream_id)).stream_id == stream_id


@pytest.mark.parametrize(
    "stream_id", ["", "run", "Run_abc", "1run_abc", "run_", "run_a/b", "run_a b", "x_" + "a" * 121]
)
def test_append_refuses_bad_stream_ids(stream_id: str) -> None:
    with pytest.raises(ValidationError, match="stream_id"):
        api.AppendRequest.model_validate(_append(stream_id=stream_id))


@pytest.mark.parametrize("version", [None, 0, 7])
def test_append_expected_version_none_or_non_negative(version: int | None) -> None:
    assert api.AppendRequest.model_validate(_append(expected_version=version)).expected_version == (
        version
    )


def test_append_refuses_a_negative_expected_version() -> None:
    with pytest.raises(ValidationError, match="expected_version"):
        api.AppendRequest.model_validate(_append(expected_version=-1))


def test_append_must_say_which_version_it_expects() -> None:
    # No default: a writer states "any version" (None) explicitly rather than by omission.
    body = _append()
    del body["expected_version"]
    with pytest.raises(ValidationError, match="expected_version"):
        api.AppendRequest.model_validate(body)


def test_append_needs_at_least_one_event() -> None:
    with pytest.raises(ValidationError, match="events"):
        api.AppendRequest.model_validate(_append(events=[]))


def test_append_validates_each_event() -> None:
    with pytest.raises(ValidationError, match="Bogus"):
        api.AppendRequest.model_validate(_append(events=[{"type": "Bogus", "data": {}}]))


def test_append_request_round_trips_through_json() -> None:
    request = api.AppendRequest.model_validate(_append())
    assert api.AppendRequest.model_validate_json(request.model_dump_json()) == request


def test_version_conflict_is_a_problem_document() -> None:
    body = {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "stream is at version 3",
        "stream_id": RUN_ID,
        "expected_version": 1,
        "actual_version": 3,
    }
    conflict = api.VersionConflict.model_validate(body)

    assert isinstance(conflict, api.Problem)
    assert conflict.actual_version == 3
    assert conflict.model_dump() == body


def test_approval_decision_is_approve_or_reject() -> None:
    assert api.ApprovalRequest(decision="approve", approver="ana").decision == "approve"
    with pytest.raises(ValidationError, match="decision"):
        api.ApprovalRequest.model_validate({"decision": "maybe", "approver": "ana"})


def test_order_query_limit_bounds() -> None:
    assert api.OrderQuery().limit == 100
    for limit in (0, 1001):
        with pytest.raises(ValidationError, match="limit"):
            api.OrderQuery(limit=limit)
