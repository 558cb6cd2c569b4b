"""Explicit orders must form a plan: unique keys, known dependencies, no cycle."""

from __future__ import annotations

import pytest

from ironclaw.contracts.models import RequestedOrder
from ironclaw.gateway.domain.submissions import OrderGraphError, check_order_graph


def orders(*specs: tuple[str, list[str]]) -> list[RequestedOrder]:
    return [RequestedOrder(key=key, objective=f"do {key}", depends_on=deps) for key, deps in specs]


def test_a_diamond_is_a_plan() -> None:
    check_order_graph(orders(("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])))


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (orders(("a", []), ("a", [])), "repeated: a"),
        (orders(("a", ["x"])), "unknown keys: x"),
        (orders(("a", ["a"])), "depends on itself"),
        (orders(("a", ["c"]), ("b", ["a"]), ("c", ["b"])), "cycle: a -> c -> b -> a"),
        (orders(("x", []), ("a", ["b"]), ("b", ["a"]), ("d", ["x"])), "cycle: a -> b -> a"),
    ],
)
def test_what_is_not_a_plan(graph: list[RequestedOrder], message: str) -> None:
    with pytest.raises(OrderGraphError, match=message):
        check_order_graph(graph)


def test_a_long_chain_is_checked_without_recursion_trouble() -> None:
    chain = orders(*[(f"k{n}", [f"k{n - 1}"] if n else []) for n in range(200)])

    check_order_graph(chain)
