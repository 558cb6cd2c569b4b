"""METE planning with a model: it must answer through the `submit_plan` tool, and is checked.

An invalid plan is sent back once, as the tool's result with the validation error, and the model
is asked again; a second invalid plan, or a model that cannot be reached, is for the caller to
fall back from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ironclaw.co.domain.drafts import (
    MAX_PLAN_ORDERS,
    OrderDraft,
    PlanError,
    checked_plan,
    validation_summary,
)
from ironclaw.contracts.models import ORDER_KEY_PATTERN, OrderBudget

SUBMIT_PLAN = "submit_plan"
PLANNING_ATTEMPTS = 2

SYSTEM_PROMPT = """\
You are the planner of IronClaw, a fleet of AI coding agents working on a git repository (the \
theater). Turn the user's request into Orders: each Order is one objective a single coding agent \
can finish alone in its own copy of the repository, and is merged into the mainline once done.

Rules:
- Prefer few Orders; one Order is right for most requests. Split only when parts are truly \
independent or one part must land first.
- depends_on lists the keys of Orders that must be merged before this one starts.
- Give each Order concrete, checkable success_criteria.
- engine "openai" (the default) has an agent edit the code; engine "command" runs the given \
shell `commands` and nothing else.
- Answer only by calling submit_plan once."""


class ProposedOrder(BaseModel):
    """One Order as the model proposes it."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=ORDER_KEY_PATTERN, description="short unique name, e.g. add-endpoint")
    objective: str = Field(
        min_length=1, max_length=20_000, description="what the agent must do, self-contained"
    )
    success_criteria: list[str] = Field(default_factory=list, max_length=50)
    depends_on: list[str] = Field(
        default_factory=list, description="keys of Orders that must be merged first"
    )
    profile: str | None = Field(default=None, description="model profile; omit for the default")
    engine: str | None = Field(default=None, description='"openai" (default) or "command"')
    commands: list[str] = Field(
        default_factory=list, max_length=100, description='shell commands for engine "command"'
    )
    budget: OrderBudget | None = Field(default=None, description="limits; omit for defaults")


class PlanProposal(BaseModel):
    """The arguments of `submit_plan`: the Orders and why this plan."""

    model_config = ConfigDict(extra="forbid")

    orders: list[ProposedOrder] = Field(min_length=1, max_length=MAX_PLAN_ORDERS)
    rationale: str = Field(default="", max_length=5_000, description="why this plan, briefly")

    def drafts(self) -> list[OrderDraft]:
        return [
            OrderDraft(
                key=order.key,
                objective=order.objective,
                success_criteria=tuple(order.success_criteria),
                depends_on=tuple(order.depends_on),
                engine=order.engine,
                profile=order.profile,
                commands=tuple(order.commands),
                budget=order.budget,
            )
            for order in self.orders
        ]


def submit_plan_tool() -> dict[str, Any]:
    """The `submit_plan` tool in the chat-completions format; its schema is `PlanProposal`'s."""
    return {
        "type": "function",
        "function": {
            "name": SUBMIT_PLAN,
            "description": "Submit the plan: the Orders that fulfil the request, as a DAG.",
            "parameters": PlanProposal.model_json_schema(),
        },
    }


class ModelUnavailable(Exception):
    """The model could not be asked (unreachable, timed out, refused the request)."""


@dataclass(frozen=True)
class ModelReply:
    """What the model answered: the assistant message to echo back and its first tool call."""

    assistant_message: dict[str, Any]
    tool_name: str | None = None
    tool_call_id: str | None = None
    arguments: str | None = None


class PlanModel(Protocol):
    """A chat model that can be made to call one tool."""

    @property
    def name(self) -> str: ...

    def call_tool(self, messages: list[dict[str, Any]], tool: dict[str, Any]) -> ModelReply: ...


@dataclass(frozen=True)
class ModelPlan:
    """A plan the model proposed and that passed every check, dependency-first."""

    drafts: list[OrderDraft]
    rationale: str
    attempts: int


def plan_with_model(model: PlanModel, *, message: str, theater: str) -> ModelPlan:
    """Ask `model` for a plan; `PlanError` after two invalid ones, `ModelUnavailable` if down."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Theater: {theater}\n\nRequest:\n{message}"},
    ]
    tool = submit_plan_tool()
    problem = PlanError("the model was not asked")
    for attempt in range(1, PLANNING_ATTEMPTS + 1):
        reply = model.call_tool(messages, tool)
        try:
            proposal = proposal_from(reply)
            return ModelPlan(checked_plan(proposal.drafts()), proposal.rationale, attempt)
        except PlanError as error:
            problem = error
            messages.extend([reply.assistant_message, correction(reply, error)])
    raise PlanError(f"the model's plan was invalid twice; last: {problem}")


def proposal_from(reply: ModelReply) -> PlanProposal:
    """The `submit_plan` arguments of a reply, validated against `PlanProposal`."""
    if reply.tool_name is None:
        raise PlanError(f"the model answered without calling {SUBMIT_PLAN}")
    if reply.tool_name != SUBMIT_PLAN:
        raise PlanError(f"the model called {reply.tool_name!r}, not {SUBMIT_PLAN}")
    try:
        arguments = json.loads(reply.arguments or "")
    except json.JSONDecodeError as error:
        raise PlanError(f"the {SUBMIT_PLAN} arguments are not JSON: {error}") from None
    try:
        return PlanProposal.model_validate(arguments)
    except ValidationError as error:
        raise PlanError(validation_summary(error)) from None


def correction(reply: ModelReply, error: PlanError) -> dict[str, Any]:
    """The message that tells the model what was wrong: the tool's result when it called one."""
    text = (
        f"The plan was refused: {error}\n"
        f"Fix these problems and call {SUBMIT_PLAN} again with the whole corrected plan."
    )
    if reply.tool_call_id:
        return {"role": "tool", "tool_call_id": reply.tool_call_id, "content": text}
    return {"role": "user", "content": text}
