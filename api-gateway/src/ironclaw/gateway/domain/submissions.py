"""Turning a chat message or a structured submission into the `RunReceived` that starts a Run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ironclaw.contracts.events import EventMetadata, NewEvent, RunReceived
from ironclaw.contracts.models import RequestedOrder, RunBudget, RunSource, SourceKind


class OrderGraphError(ValueError):
    """Explicit orders that do not form a plan: repeated keys, unknown dependencies, a cycle."""


def check_order_graph(orders: Sequence[RequestedOrder]) -> None:
    """Refuse explicit orders whose keys repeat, or whose `depends_on` is unknown or cyclic."""
    keys = [order.key for order in orders]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise OrderGraphError(f"order keys must be unique; repeated: {', '.join(repeated)}")
    known = set(keys)
    for order in orders:
        unknown = [key for key in order.depends_on if key not in known]
        if unknown:
            raise OrderGraphError(
                f"order {order.key!r} depends on unknown keys: {', '.join(unknown)}"
            )
        if order.key in order.depends_on:
            raise OrderGraphError(f"order {order.key!r} depends on itself")
    cycle = _find_cycle({order.key: list(order.depends_on) for order in orders})
    if cycle:
        raise OrderGraphError(f"order dependencies form a cycle: {' -> '.join(cycle)}")


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as keys (the first repeated at the end), or None; depth <= 200 orders."""
    done: set[str] = set()
    path: list[str] = []

    def visit(key: str) -> list[str] | None:
        if key in done:
            return None
        if key in path:
            return [*path[path.index(key) :], key]
        path.append(key)
        for dependency in graph[key]:
            cycle = visit(dependency)
            if cycle:
                return cycle
        path.pop()
        done.add(key)
        return None

    for key in graph:
        cycle = visit(key)
        if cycle:
            return cycle
    return None


@dataclass(frozen=True)
class Submission:
    """A request for a Run, whichever route it came through."""

    message: str
    theater: str
    source: SourceKind
    conversation_id: str | None = None
    profile: str | None = None
    playbook: str | None = None
    orders: list[RequestedOrder] = field(default_factory=list)
    budget: RunBudget | None = None


def run_received(submission: Submission, run_id: str, *, request_id: str | None) -> NewEvent:
    """The first event of the run stream `run_id`."""
    payload = RunReceived(
        run_id=run_id,
        theater=submission.theater,
        message=submission.message,
        source=RunSource(kind=submission.source),
        conversation_id=submission.conversation_id,
        profile=submission.profile,
        playbook=submission.playbook,
        requested_orders=list(submission.orders),
        budget=submission.budget,
    )
    metadata = EventMetadata(correlation_id=run_id, causation_id=request_id, actor="gateway")
    return NewEvent.of(payload, metadata=metadata)
