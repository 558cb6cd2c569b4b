"""A Run's budget shared by its Orders: an attempt may spend only what the Run has left."""

from __future__ import annotations

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.models import OrderBudget, RunBudget


class RunBudgetSpent(Exception):
    """The Run has used up its budget: no attempt of it may start."""


def run_budget_of(ledger: LedgerClient, run_id: str) -> RunBudget | None:
    """The budget the Run was submitted with (its `RunReceived`), if any."""
    events = ledger.read_stream(run_id).events
    received = next((e for e in events if e.type == ev.RunReceived.event_type), None)
    if received is None:
        return None
    return ev.RunReceived.model_validate(received.data).budget


def within_run_budget(ledger: LedgerClient, run_id: str, budget: OrderBudget) -> OrderBudget:
    """`budget` with its token and cost limits lowered to what the Run has left.

    The Run's totals count its settled attempts; attempts of the Run running side by side each
    see the same remainder, so together they may overshoot it by one attempt's spending.
    Raises `RunBudgetSpent` (reason `budget_exceeded:run_<which>`) when nothing is left.
    """
    limits = run_budget_of(ledger, run_id)
    if limits is None:
        return budget
    run = ledger.get_run(run_id)
    update: dict[str, float | int] = {}
    if limits.tokens is not None:
        left = limits.tokens - run.tokens.total
        if left <= 0:
            raise RunBudgetSpent(
                f"budget_exceeded:run_tokens ({run.tokens.total} of {limits.tokens} used)"
            )
        update["tokens"] = min(left, budget.tokens or left)
    if limits.cost_usd is not None:
        left_usd = limits.cost_usd - run.cost_usd
        if left_usd <= 0:
            raise RunBudgetSpent(
                f"budget_exceeded:run_cost_usd ({run.cost_usd} of {limits.cost_usd} used)"
            )
        update["cost_usd"] = min(left_usd, budget.cost_usd or left_usd)
    return budget.model_copy(update=update)
