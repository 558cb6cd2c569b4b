"""Plans are checked as DAGs before they get ids: what is refused, and in which order they run."""

from __future__ import annotations

import pytest

from ironclaw.co.domain.drafts import (
    MAX_PLAN_ORDERS,
    OrderDraft,
    PlanError,
    checked_plan,
    with_order_ids,
)


def draft(key: str, *depends_on: str, commands: tuple[str, ...] = ()) -> OrderDraft:
    return OrderDraft(key=key, objective=f"do {key}", depends_on=depends_on, commands=commands)


def test_a_topological_plan_keeps_the_order_it_was_given() -> None:
    drafts = [draft("a"), draft("b"), draft("c", "a", "b")]

    assert [d.key for d in checked_plan(drafts)] == ["a", "b", "c"]


def test_dependencies_come_first_and_otherwise_the_given_order_is_kept() -> None:
    drafts = [draft("docs", "impl"), draft("impl", "schema"), draft("lint"), draft("schema")]

    assert [d.key for d in checked_plan(drafts)] == ["lint", "schema", "impl", "docs"]


@pytest.mark.parametrize(
    ("drafts", "message"),
    [
        ([], "the plan has no orders"),
        ([draft("a"), draft("a")], "order keys must be unique; repeated: a"),
        ([draft("a", "ghost")], "order 'a' depends on unknown key 'ghost'"),
        ([draft("a", "a")], "order 'a' depends on itself"),
        ([draft("a", "c"), draft("b", "a"), draft("c", "b")], "cycle: a -> c -> b -> a"),
        ([draft("x"), draft("a", "b"), draft("b", "a", "x")], "cycle: a -> b -> a"),
    ],
    ids=["empty", "duplicate-key", "unknown-dependency", "self-dependency", "cycle", "cycle-2"],
)
def test_an_unusable_plan_is_refused_saying_why(drafts: list[OrderDraft], message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(")):
        checked_plan(drafts)


def test_too_many_orders_for_one_ledger_batch_are_refused() -> None:
    drafts = [draft(f"o{n}") for n in range(MAX_PLAN_ORDERS + 1)]

    with pytest.raises(PlanError, match=f"at most {MAX_PLAN_ORDERS}"):
        checked_plan(drafts)


def test_order_ids_replace_keys_in_dependencies_and_engines_default_sensibly() -> None:
    drafts = checked_plan([draft("a"), draft("b", commands=("make fmt",)), draft("c", "a", "b")])

    a, b, c = with_order_ids(drafts, default_profile="fast")

    assert all(o.order_id.startswith("ord_") for o in (a, b, c))
    assert len({a.order_id, b.order_id, c.order_id}) == 3
    assert c.depends_on == [a.order_id, b.order_id]
    assert (a.engine, b.engine) == ("openai", "command")
    assert a.profile == "fast"
