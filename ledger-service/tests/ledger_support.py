"""Builders of valid events for the ledger's tests (`from ledger_support import ...`)."""

from __future__ import annotations

from collections.abc import Sequence

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import AppendRequest, AppendResult
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import AfterActionReport, TokenUsage
from ironclaw.ledger.adapters.event_store import EventStore


class Ledger:
    """An EventStore with shortcuts that append the usual lifecycles of runs and orders."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def append(
        self, stream_id: str, payloads: Sequence[ev.EventPayload], expected: int | None = None
    ) -> AppendResult:
        request = AppendRequest(
            stream_id=stream_id,
            expected_version=expected,
            events=[ev.NewEvent.of(p) for p in payloads],
        )
        (result,) = self.store.append([request])
        return result

    def new_run(self, message: str = "add a greeting") -> str:
        run_id = new_id("run")
        self.append(run_id, [ev.RunReceived(run_id=run_id, theater="default", message=message)], 0)
        return run_id

    def plan(self, run_id: str, keys: Sequence[str] = ("build",)) -> list[str]:
        planned = [
            ev.PlannedOrder(order_id=new_id("ord"), key=key, objective=f"do {key}") for key in keys
        ]
        self.append(run_id, [ev.RunPlanned(run_id=run_id, planner="test", orders=planned)])
        for spec in planned:
            self.append(
                spec.order_id,
                [
                    ev.OrderPlanned(
                        order_id=spec.order_id, run_id=run_id, theater="default", spec=spec
                    )
                ],
                0,
            )
        return [spec.order_id for spec in planned]

    def issue(self, run_id: str, order_id: str, attempt: int = 1) -> AppendResult:
        return self.append(
            order_id, [ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=attempt)]
        )

    def run_attempt(self, run_id: str, order_id: str, attempt: int = 1, tokens: int = 10) -> None:
        """Claim, start and complete an issued attempt."""
        self.append(
            order_id,
            [
                ev.OrderClaimed(
                    order_id=order_id, run_id=run_id, attempt=attempt, worker_id="w1", lease_s=30
                ),
                ev.AttemptStarted(
                    order_id=order_id,
                    run_id=run_id,
                    attempt=attempt,
                    branch=f"ironclaw/{order_id}/{attempt}",
                    worktree="/tmp/wt",
                    base_commit="a" * 40,
                    engine="command",
                ),
                ev.OrderCompleted(
                    order_id=order_id,
                    run_id=run_id,
                    attempt=attempt,
                    branch=f"ironclaw/{order_id}/{attempt}",
                    commits=["b" * 40],
                    aar=aar(tokens=tokens),
                ),
            ],
        )


def aar(outcome: str = "completed", tokens: int = 10, cost: float = 0.01) -> AfterActionReport:
    return AfterActionReport(
        outcome=outcome,  # type: ignore[arg-type]
        summary="did it",
        tokens=TokenUsage(input=tokens, output=tokens // 2),
        cost_usd=cost,
    )
