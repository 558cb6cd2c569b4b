"""What a coding-agent CLI says about itself in its output: tokens, cost, a summary.

Claude Code (`--output-format json`) ends with a JSON result (`result`, `total_cost_usd`,
`usage`, `is_error`); Aider prints `Tokens: 1.2k sent, 345 received. Cost: $0.01 message,
$0.02 session.`; Codex prints `tokens used: 1,234` (a total: counted as input). Anything else
reports nothing, which is not an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ironclaw.contracts.models import TokenUsage

AIDER_TOKENS = re.compile(
    r"Tokens:\s*([\d.,]+)([kKmM]?)\s*sent,\s*([\d.,]+)([kKmM]?)\s*received", re.IGNORECASE
)
AIDER_COST = re.compile(r"Cost:.*?\$([\d.]+)\s*session", re.IGNORECASE)
CODEX_TOKENS = re.compile(r"tokens used:?\s*\n?\s*([\d,]+)", re.IGNORECASE)
SCALE = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class AgentReport:
    """What the agent reported: tokens, cost, its own summary, whether it says it failed."""

    tokens: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    summary: str | None = None
    is_error: bool = False


def read_report(output: str) -> AgentReport:
    """The report in an agent's output, the first format that matches."""
    return _claude_json(output) or _aider(output) or _codex(output) or AgentReport()


def _claude_json(output: str) -> AgentReport | None:
    result = _last_json_object(output)
    if result is None or ("result" not in result and "total_cost_usd" not in result):
        return None
    raw = result.get("usage")
    usage: dict[str, Any] = raw if isinstance(raw, dict) else {}
    tokens = TokenUsage(
        input=_count(usage.get("input_tokens")) + _count(usage.get("cache_read_input_tokens")),
        output=_count(usage.get("output_tokens")),
    )
    summary = result.get("result")
    return AgentReport(
        tokens=tokens,
        cost_usd=max(0.0, float(result.get("total_cost_usd") or 0.0)),
        summary=summary if isinstance(summary, str) and summary.strip() else None,
        is_error=bool(result.get("is_error")),
    )


def _aider(output: str) -> AgentReport | None:
    found = AIDER_TOKENS.findall(output)
    if not found:
        return None
    sent, sent_scale, received, received_scale = found[-1]
    costs = AIDER_COST.findall(output)
    return AgentReport(
        tokens=TokenUsage(
            input=_scaled(sent, sent_scale), output=_scaled(received, received_scale)
        ),
        cost_usd=float(costs[-1]) if costs else 0.0,
    )


def _codex(output: str) -> AgentReport | None:
    found = CODEX_TOKENS.findall(output)
    if not found:
        return None
    return AgentReport(tokens=TokenUsage(input=int(found[-1].replace(",", ""))))


def _last_json_object(output: str) -> dict[str, Any] | None:
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                return None
            return parsed if isinstance(parsed, dict) else None
    return None


def _count(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _scaled(number: str, scale: str) -> int:
    return int(float(number.replace(",", "")) * SCALE[scale.lower()])
