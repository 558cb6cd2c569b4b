"""Which model profile an Order runs on, as its theater amends it, and what that changes:
the engine, and the budgets the Order leaves open."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ironclaw.contracts.models import OrderBudget
from ironclaw.contracts.profiles import (
    DEFAULT_PROFILE,
    InvalidProfiles,
    ModelProfile,
    with_overrides,
)


class ProfileRefused(Exception):
    """The Order cannot run on the profile it names: unknown, or not for its task type."""


def resolve_profile(
    name: str | None,
    *,
    task_type: str | None,
    profiles: Mapping[str, ModelProfile],
    overrides: Mapping[str, dict[str, Any]],
) -> ModelProfile | None:
    """The Order's profile with its theater's overrides; None for an Order naming none while
    no `default` profile is defined (the worker's own settings apply)."""
    chosen = name or DEFAULT_PROFILE
    profile = profiles.get(chosen)
    if profile is None:
        if name is None or name == DEFAULT_PROFILE:
            return None
        known = ", ".join(sorted(profiles)) or "(none)"
        raise ProfileRefused(f"unknown profile {chosen!r}; profiles: {known}")
    if chosen in overrides:
        try:
            profile = with_overrides(profile, overrides[chosen])
        except InvalidProfiles as error:
            raise ProfileRefused(str(error)) from None
    if not profile.takes(task_type):
        raise ProfileRefused(
            f"profile {chosen!r} does not take {task_type} orders "
            f"(it takes {', '.join(profile.task_types)})"
        )
    return profile


def budget_with_profile(budget: OrderBudget, profile: ModelProfile | None) -> OrderBudget:
    """The Order's budget, its open limits (tokens, cost, tool calls) filled from the profile."""
    if profile is None:
        return budget
    limits = profile.budget
    return budget.model_copy(
        update={
            "tokens": budget.tokens if budget.tokens is not None else limits.tokens,
            "cost_usd": budget.cost_usd if budget.cost_usd is not None else limits.cost_usd,
            "tool_calls": (
                budget.tool_calls if budget.tool_calls is not None else limits.tool_calls
            ),
        }
    )
