"""Plans as planners draft them: Orders named by key, checked as a DAG before they get ids."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from ironclaw.contracts.events import PlannedOrder
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.models import OrderBudget

# A plan is one ledger batch: the run's own append and one per Order (see AppendBatch), and
# POST /runs accepts at most 200 explicit Orders.
MAX_PLAN_ORDERS = 200


class PlanError(ValueError):
    """A plan that cannot be used; the message says why (for `RunFailed`, or for the model)."""


@dataclass(frozen=True)
class OrderDraft:
    """One Order of a plan before it has an id; `depends_on` names other drafts' keys."""

    key: str
    objective: str
    success_criteria: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    engine: str | None = None
    profile: str | None = None
    commands: tuple[str, ...] = ()
    task_type: str | None = None
    budget: OrderBudget | None = field(default=None)


def checked_plan(drafts: Sequence[OrderDraft]) -> list[OrderDraft]:
    """The drafts in a dependency-first order, or `PlanError` saying what is wrong.

    Refused: no orders, too many, repeated keys, dependencies on unknown keys or on itself, and
    cycles. The order the planner gave is kept wherever the dependencies allow it, so a plan
    that is already topological comes back unchanged (promotion follows this order).
    """
    if not drafts:
        raise PlanError("the plan has no orders")
    if len(drafts) > MAX_PLAN_ORDERS:
        raise PlanError(f"the plan has {len(drafts)} orders; at most {MAX_PLAN_ORDERS} are allowed")
    _refuse_repeated_keys(drafts)
    _refuse_unknown_dependencies(drafts)
    return _dependency_first(drafts)


def _refuse_repeated_keys(drafts: Sequence[OrderDraft]) -> None:
    counts = Counter(d.key for d in drafts)
    repeated = sorted(key for key, seen in counts.items() if seen > 1)
    if repeated:
        raise PlanError(f"order keys must be unique; repeated: {', '.join(repeated)}")


def _refuse_unknown_dependencies(drafts: Sequence[OrderDraft]) -> None:
    keys = {d.key for d in drafts}
    problems = []
    for draft in drafts:
        for dependency in draft.depends_on:
            if dependency == draft.key:
                problems.append(f"order {draft.key!r} depends on itself")
            elif dependency not in keys:
                problems.append(f"order {draft.key!r} depends on unknown key {dependency!r}")
    if problems:
        raise PlanError("; ".join(problems))


def _dependency_first(drafts: Sequence[OrderDraft]) -> list[OrderDraft]:
    """Kahn's algorithm, always taking the earliest-given ready draft: stable and cycle-aware."""
    index = {d.key: n for n, d in enumerate(drafts)}
    waiting_on = {d.key: set(d.depends_on) for d in drafts}
    dependents: dict[str, list[str]] = {d.key: [] for d in drafts}
    for draft in drafts:
        for dependency in set(draft.depends_on):
            dependents[dependency].append(draft.key)
    ready = [index[key] for key, deps in waiting_on.items() if not deps]
    heapq.heapify(ready)
    ordered: list[OrderDraft] = []
    while ready:
        draft = drafts[heapq.heappop(ready)]
        ordered.append(draft)
        for dependent in dependents[draft.key]:
            waiting_on[dependent].discard(draft.key)
            if not waiting_on[dependent]:
                heapq.heappush(ready, index[dependent])
    if len(ordered) < len(drafts):
        stuck = {key for key, deps in waiting_on.items() if deps}
        raise PlanError(f"the dependencies form a cycle: {_a_cycle(stuck, waiting_on)}")
    return ordered


def _a_cycle(stuck: set[str], waiting_on: dict[str, set[str]]) -> str:
    """One cycle among the stuck keys, spelled `a -> b -> a` (every stuck key leads to one)."""
    path = [min(stuck)]
    while True:
        following = min(waiting_on[path[-1]] & stuck)
        if following in path:
            cycle = [*path[path.index(following) :], following]
            return " -> ".join(cycle)
        path.append(following)


def with_order_ids(
    drafts: Sequence[OrderDraft], *, default_profile: str | None = None
) -> list[PlannedOrder]:
    """The checked drafts as `PlannedOrder`s with new order ids; `depends_on` becomes ids.

    An Order without an engine runs its `commands` with the `command` engine when it has some,
    else asks a model (`openai`); without a profile it takes the run's.
    """
    ids = {draft.key: new_id("ord") for draft in drafts}
    planned = []
    for draft in drafts:
        try:
            planned.append(
                PlannedOrder(
                    order_id=ids[draft.key],
                    key=draft.key,
                    objective=draft.objective,
                    success_criteria=list(draft.success_criteria),
                    depends_on=[ids[key] for key in dict.fromkeys(draft.depends_on)],
                    engine=draft.engine or ("command" if draft.commands else "openai"),
                    profile=draft.profile or default_profile,
                    commands=list(draft.commands),
                    task_type=draft.task_type,
                    budget=draft.budget or OrderBudget(),
                )
            )
        except ValidationError as error:
            raise PlanError(f"order {draft.key!r}: {validation_summary(error)}") from None
    return planned


def validation_summary(error: ValidationError, *, limit: int = 10) -> str:
    """A pydantic error in one line: `orders.1.key: String should match pattern ...; ...`."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'value'}: {item['msg']}"
        for item in error.errors(include_url=False)
    ]
    more = len(problems) - limit
    return "; ".join(problems[:limit]) + (f"; and {more} more" if more > 0 else "")
