"""Deterministic promotion: an order reaches mainline only after every order planned before it.

The plan order is the order of `RunPlanned.orders` on the run's stream (later plans of the same
run, if any, append their new orders after the earlier ones). Promoting in that order, and only
once the earlier orders are settled, gives the same accepted attempts the same mainline history
whatever order their units finished in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ironclaw.contracts import events as ev
from ironclaw.contracts.models import ORDER_SETTLED, OrderStatus


def plan_order(run_events: Iterable[ev.StoredEvent]) -> list[str]:
    """The run's order ids in plan order, from its `RunPlanned` events."""
    planned: list[str] = []
    for event in run_events:
        if event.type != ev.RunPlanned.event_type:
            continue
        payload = event.payload()
        assert isinstance(payload, ev.RunPlanned)
        planned.extend(o.order_id for o in payload.orders if o.order_id not in planned)
    return planned


def orders_before(order_id: str, plan: list[str]) -> list[str]:
    """The orders planned before `order_id`; all of the plan when the order is not in it."""
    if order_id in plan:
        return plan[: plan.index(order_id)]
    return list(plan)


def unsettled(order_ids: Iterable[str], statuses: Mapping[str, OrderStatus]) -> list[str]:
    """Those of `order_ids` not yet settled; an order the ledger does not list is not settled."""
    return [o for o in order_ids if statuses.get(o) not in ORDER_SETTLED]
