"""Scripted model behaviours for end-to-end runs: the planner's and the engine's turns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openai_server import Reply, text_reply, tool_call


def tool_names(request: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in request.get("tools") or []}


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m.get("content") or "" for m in request["messages"] if m.get("role") == "tool"]


def plan_of(*orders: dict[str, Any]) -> Reply:
    return tool_call("submit_plan", {"orders": list(orders), "rationale": "scripted plan"})


def agent(
    plan: Reply, steps: list[tuple[str, dict[str, Any]]], summary: str
) -> Callable[[dict[str, Any]], Reply]:
    """A model that answers planning with `plan`, then takes `steps` one per turn, then finishes.

    The engine's turn number is the number of tool results in the conversation so far, so the
    same script serves any number of runs.
    """

    def reply(request: dict[str, Any]) -> Reply:
        if "submit_plan" in tool_names(request):
            return plan
        if not tool_names(request):
            return text_reply(summary)
        turn = len(tool_results(request))
        if turn < len(steps):
            name, arguments = steps[turn]
            return tool_call(name, arguments)
        return tool_call("finish", {"summary": summary, "outcome": "completed"})

    return reply


def last_tool_result(request: dict[str, Any]) -> str:
    results = tool_results(request)
    return results[-1] if results else ""


def arguments_of(reply: Reply) -> dict[str, Any]:
    return dict(json.loads(reply["tool_calls"][0]["function"]["arguments"]))
