"""Shared test data: one realistic payload per event type of the vocabulary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ironclaw.contracts import events as ev
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import (
    AfterActionReport,
    GateResult,
    OrderBudget,
    RequestedOrder,
    RunSource,
    SourceKind,
    TokenUsage,
)

RUN_ID = new_id("run")
ORDER_ID = new_id("ord")
OTHER_ORDER_ID = new_id("ord")


def _aar(outcome: str = "completed") -> AfterActionReport:
    return AfterActionReport.model_validate(
        {
            "outcome": outcome,
            "summary": "added the endpoint and its tests",
            "changed_files": ["src/app.py", "tests/test_app.py"],
            "commits": ["a" * 40],
            "tests_run": ["pytest -q"],
            "blockers": [] if outcome == "completed" else ["missing credentials"],
            "tokens": {"input": 1200, "output": 340},
            "cost_usd": 0.012,
            "duration_s": 42.5,
            "tool_calls": 7,
        }
    )


def _planned(order_id: str = ORDER_ID) -> ev.PlannedOrder:
    return ev.PlannedOrder(
        order_id=order_id,
        key="add-endpoint",
        objective="Add GET /status returning the build version",
        success_criteria=["GET /status returns 200"],
        depends_on=[OTHER_ORDER_ID],
        engine="openai",
        profile="default",
        commands=["pytest -q"],
        task_type="feature",
        budget=OrderBudget(ttl_s=600, tokens=50_000, cost_usd=1.5, tool_calls=40),
    )


def build_sample_payloads() -> dict[str, ev.EventPayload]:
    """Every event type with non-default values where the type has any, keyed by type name."""
    gates = [GateResult(name="pytest", passed=True, exit_code=0, duration_s=3.2, output_tail="ok")]
    samples: list[ev.EventPayload] = [
        ev.RunReceived(
            run_id=RUN_ID,
            theater="default",
            message="Add a /status endpoint ✓ — please",
            source=RunSource(
                kind=SourceKind.SLACK, reference={"channel": "C1", "ts": "1.2"}, author="ana"
            ),
            conversation_id="conv-1",
            profile="fast",
            playbook="endpoint",
            requested_orders=[
                RequestedOrder(key="status", objective="add /status", commands=["make"])
            ],
        ),
        ev.RunPlanningStarted(run_id=RUN_ID, planner="mete"),
        ev.RunPlanned(
            run_id=RUN_ID, planner="mete", orders=[_planned()], rationale="one small change"
        ),
        ev.RunIntegrating(run_id=RUN_ID),
        ev.RunAwaitingApproval(run_id=RUN_ID, reason="touches CI config"),
        ev.RunApproved(run_id=RUN_ID, approver="ana", comment="go"),
        ev.RunRejected(run_id=RUN_ID, approver="bob", comment="not now"),
        ev.RunCompleted(run_id=RUN_ID, response="Done: GET /status added."),
        ev.RunFailed(run_id=RUN_ID, reason="all orders failed", response="Sorry."),
        ev.RunCancelRequested(run_id=RUN_ID, requested_by="ana"),
        ev.RunCancelled(run_id=RUN_ID, reason="user asked"),
        ev.ReplyDelivered(run_id=RUN_ID, channel="slack", reference={"ts": "1.3"}),
        ev.ReplyFailed(run_id=RUN_ID, channel="github", reason="502 from API", attempts=5),
        ev.WebhookStage(
            run_id=RUN_ID,
            provider="github",
            stage="verified",
            delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958",
            at=datetime(2026, 11, 21, 11, 0, tzinfo=UTC),
        ),
        ev.OrderPlanned(order_id=ORDER_ID, run_id=RUN_ID, theater="default", spec=_planned()),
        ev.OrderIssued(
            order_id=ORDER_ID, run_id=RUN_ID, attempt=2, reason="reissued", rescue_ref="refs/r/1"
        ),
        ev.OrderClaimed(
            order_id=ORDER_ID, run_id=RUN_ID, attempt=2, worker_id="worker-1", lease_s=90
        ),
        ev.AttemptStarted(
            order_id=ORDER_ID,
            run_id=RUN_ID,
            attempt=2,
            branch=f"ironclaw/{ORDER_ID}/2",
            worktree="/data/worktrees/x",
            base_commit="b" * 40,
            engine="openai",
        ),
        ev.SignalEmitted(
            order_id=ORDER_ID,
            attempt=2,
            progress=0.25,
            note="reading files",
            tool_calls=3,
            files_changed=1,
            tokens=TokenUsage(input=10, output=5),
            lease_s=120,
        ),
        ev.OrderCompleted(
            order_id=ORDER_ID,
            run_id=RUN_ID,
            attempt=2,
            branch=f"ironclaw/{ORDER_ID}/2",
            commits=["a" * 40],
            aar=_aar(),
        ),
        ev.OrderFailed(
            order_id=ORDER_ID,
            run_id=RUN_ID,
            attempt=2,
            reason="budget_exceeded:tokens",
            retryable=True,
            aar=_aar("failed"),
        ),
        ev.OrderBlocked(
            order_id=ORDER_ID,
            run_id=RUN_ID,
            attempt=2,
            reason="needs a secret",
            aar=_aar("blocked"),
        ),
        ev.OrderCancelled(order_id=ORDER_ID, run_id=RUN_ID, reason="run cancelled"),
        ev.RecoveryRequired(order_id=ORDER_ID, attempt=2, reason="stalled", detail="no signal"),
        ev.RescueSaved(order_id=ORDER_ID, attempt=2, ref="refs/rescue/x", commit="c" * 40),
        ev.ToolCalled(
            order_id=ORDER_ID,
            attempt=2,
            tool="run_command",
            arguments_summary="pytest -q",
            duration_ms=1500,
            result_size=2048,
            refused=None,
        ),
        ev.IntegrationReady(order_id=ORDER_ID, run_id=RUN_ID, attempt=2),
        ev.IntegrationStarted(order_id=ORDER_ID, run_id=RUN_ID, attempt=2),
        ev.Integrated(
            order_id=ORDER_ID,
            run_id=RUN_ID,
            attempt=2,
            theater="default",
            merged_commit="d" * 40,
            gates=gates,
        ),
        ev.IntegrationFailed(
            order_id=ORDER_ID,
            run_id=RUN_ID,
            attempt=2,
            reason="gate pytest failed",
            gates=[GateResult(name="pytest", passed=False, exit_code=1)],
            output_tail="1 failed",
            artifact="artifacts/x.log",
        ),
        ev.TheaterRegistered(
            name="default", source="/src/repo", mainline="main", path="/data/t", head="e" * 40
        ),
        ev.MainlineAdvanced(name="default", head="f" * 40, order_id=ORDER_ID),
        ev.PatrolCompleted(
            scope="default",
            patrol="observer",
            holder="observer-1",
            saw={"stalled": 1},
            did=["reissued x"],
            duration_ms=12,
        ),
        ev.LeaseTaken(scope="global", holder="duty-2", fencing_token=3, previous_holder="duty-1"),
        ev.SentinelAlerted(scope="global", condition="patrol_stale", detail="90 s"),
        ev.DutyFailover(stale_holder="duty-1", stale_for_s=95.5, fence=3, holder="sentinel-1"),
        ev.ProfileDisabled(profile="fast", reason="5 failures in a row", consecutive_failures=5),
        ev.ProfileEnabled(profile="fast", operator="ana"),
        ev.DispatchRefused(order_id=ORDER_ID, run_id=RUN_ID, reason="global budget exhausted"),
        ev.DispatchPaused(theater="default", reason="daily token budget exhausted"),
        ev.DispatchResumed(theater="default", reason="back under budget"),
    ]
    return {sample.event_type: sample for sample in samples}


def contract_event_types() -> list[str]:
    """The registered event types defined by the contracts package itself."""
    return sorted(
        name
        for name, cls in ev.EventPayload.registry.items()
        if cls.__module__.startswith("ironclaw.contracts")
    )


@pytest.fixture
def sample_payloads() -> dict[str, ev.EventPayload]:
    return build_sample_payloads()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for `registered_type` runs once per event type of the vocabulary."""
    if "registered_type" in metafunc.fixturenames:
        metafunc.parametrize("registered_type", contract_event_types())
