"""What an engine is: the plugin that runs one attempt in its worktree and says how it went."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from ironclaw.contracts.models import OrderBudget, TokenUsage
from ironclaw.contracts.profiles import ModelProfile

Outcome = Literal["completed", "failed", "blocked"]


class EngineUnavailable(Exception):
    """The engine cannot run at all (not installed, not configured): the attempt fails at once."""


@dataclass(frozen=True)
class OrderSpec:
    """What the Order asks for, as an engine needs it."""

    key: str
    objective: str
    success_criteria: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    budget: OrderBudget = field(default_factory=OrderBudget)


@dataclass(frozen=True)
class Progress:
    """How far a unit got; the latest one rides on the next heartbeat."""

    progress: float | None = None
    note: str = ""
    tool_calls: int = 0
    files_changed: int = 0
    tokens: TokenUsage = field(default_factory=TokenUsage)


@dataclass(frozen=True)
class ToolUse:
    """One tool call of an engine, for the audit trail (`ToolCalled`)."""

    tool: str
    arguments_summary: str
    duration_ms: int
    result_size: int
    refused: str | None = None


@dataclass(frozen=True)
class EngineContext:
    """Everything an engine gets: where to work, what to do, how to report, and until when."""

    worktree: Path
    spec: OrderSpec
    deadline: float  # on the time.monotonic() clock
    signal: Callable[[Progress], None] = lambda progress: None
    record_tool: Callable[[ToolUse], None] = lambda use: None
    stop: threading.Event = field(default_factory=threading.Event)
    allowed_programs: tuple[str, ...] | None = None  # the theater's `[policy] allow`
    # Keeps output (redacted) in the artifact store; gives its id, None when not kept.
    store_artifact: Callable[[str, bytes], str | None] = lambda name, data: None

    def remaining_s(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - time.monotonic())

    def should_stop(self) -> str | None:
        """Why the engine must stop now (deadline passed, attempt taken away), else None."""
        if self.stop.is_set():
            return "the attempt was cancelled or superseded"
        if time.monotonic() >= self.deadline:
            return f"budget_exceeded:wall_time (the order's TTL is {self.spec.budget.ttl_s} s)"
        return None


@dataclass(frozen=True)
class EngineResult:
    """How an attempt went, as the engine saw it; the worker adds commits and files."""

    outcome: Outcome
    summary: str
    reason: str | None = None
    retryable: bool = False
    tests_run: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    discovered_context: list[str] = field(default_factory=list)
    tokens: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    tool_calls: int = 0
    artifacts: list[str] = field(default_factory=list)


class Engine(Protocol):
    """An engine plugin (entry point group `ironclaw.engines`)."""

    name: str

    def run(self, context: EngineContext) -> EngineResult:
        """Work in `context.worktree` until done, failed, blocked or past the deadline."""
        ...


class EngineLoader(Protocol):
    """Gives the engine of that name, set up as `profile` says (when the Order has one);
    raises `EngineUnavailable` saying why it cannot."""

    def __call__(self, name: str, profile: ModelProfile | None = None) -> Engine: ...


def choose_engine(
    engine: str | None, commands: list[str], profile: ModelProfile | None = None
) -> str:
    """The Order's engine, else `command` when it lists commands, else its profile's, else
    `openai`."""
    if engine:
        return engine
    if commands:
        return "command"
    return profile.engine if profile is not None else "openai"
