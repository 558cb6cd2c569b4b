"""Fan-in: the Run's response, written from its Orders' AARs and integration results."""

from __future__ import annotations

from collections.abc import Sequence

from ironclaw.contracts.api import AttemptView, OrderView, RunView
from ironclaw.contracts.models import OrderStatus

SUMMARY_CHARS = 600


def current_attempt(order: OrderView) -> AttemptView | None:
    return next((a for a in order.attempts if a.attempt == order.attempt), None)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def order_line(order: OrderView) -> str:
    """`- key: status …` with the merged commit or the reason, then the AAR summary."""
    attempt = current_attempt(order)
    line = f"- {order.key}: {order.status.value}"
    integration = order.integration
    if order.status == OrderStatus.INTEGRATED and integration and integration.merged_commit:
        line += f" as {integration.merged_commit[:12]}"
    reason = (integration.reason if integration else None) or (attempt.reason if attempt else None)
    if order.status != OrderStatus.INTEGRATED and reason:
        line += f" ({_one_line(reason, 200)})"
    if attempt and attempt.aar and attempt.aar.summary.strip():
        line += f"\n  {_one_line(attempt.aar.summary, SUMMARY_CHARS)}"
    return line


def synthesise_response(run: RunView, orders: Sequence[OrderView]) -> str:
    """A concise answer for the requester: outcome, one entry per Order, totals."""
    integrated = sum(1 for order in orders if order.status == OrderStatus.INTEGRATED)
    header = f"{integrated} of {len(orders)} orders integrated into {run.theater}'s mainline."
    totals = f"Tokens: {run.tokens.input} in, {run.tokens.output} out; cost ${run.cost_usd:.4f}."
    return "\n".join([header, *(order_line(order) for order in orders), totals])


def failure_reason(orders: Sequence[OrderView]) -> str:
    """Why a settled Run failed: which Orders did not integrate, and how they ended."""
    missed = [o for o in orders if o.status != OrderStatus.INTEGRATED]
    listed = ", ".join(f"{o.key} {o.status.value}" for o in missed)
    return f"{len(missed)} of {len(orders)} orders did not integrate: {listed}"
