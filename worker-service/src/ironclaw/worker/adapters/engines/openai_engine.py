"""The `openai` engine: a chat-completions tool loop against any OpenAI-compatible endpoint."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import openai

from ironclaw.contracts.models import TokenUsage
from ironclaw.worker.adapters.engines.conversation import bound_conversation, clip_text
from ironclaw.worker.adapters.engines.model_calls import RetryPolicy, call_with_retries
from ironclaw.worker.adapters.engines.tool_schemas import tools_at
from ironclaw.worker.adapters.engines.tools import Toolbox, ToolPolicy
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import (
    EngineContext,
    EngineResult,
    EngineUnavailable,
    Outcome,
    Progress,
)

NO_MODEL = "no model configured: set IRONCLAW_LLM_BASE_URL and IRONCLAW_LLM_MODEL"
OUTCOMES: tuple[Outcome, ...] = ("completed", "failed", "blocked")
SYSTEM_PROMPT = """You are an IronClaw unit: a coding agent working on one Order in its own git \
worktree. Use the tools to inspect and change files and to run checks. Paths are relative to the \
worktree root; anything outside it, and writes into .git or .ironclaw, are refused. Do not commit: \
the worker commits your changes. When the objective is met (or cannot be), call `finish` with a \
summary whose first line is a short title, and the outcome."""
NUDGE = "Use the tools to do the work, and call `finish` when you are done."


@dataclass
class Usage:
    """Tokens and cost so far."""

    input_cost_per_1k: float
    output_cost_per_1k: float
    tokens: TokenUsage = field(default_factory=TokenUsage)

    def add(self, response: Any) -> None:
        usage = getattr(response, "usage", None)
        if usage is not None:
            prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
            self.tokens = self.tokens + TokenUsage(input=prompt, output=completion)

    @property
    def cost_usd(self) -> float:
        return round(
            self.tokens.input / 1000 * self.input_cost_per_1k
            + self.tokens.output / 1000 * self.output_cost_per_1k,
            6,
        )


class OpenAIEngine:
    """Asks the model what to do next, runs the tools it calls, until it calls `finish`."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def run(self, context: EngineContext) -> EngineResult:
        settings = self._settings
        client = openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "unset",
            max_retries=0,  # the retry policy is ours: see model_calls
            timeout=settings.llm_request_timeout_s,
        )
        policy = ToolPolicy(
            allowed_programs=frozenset(
                settings.tool_allowed_programs
                if context.allowed_programs is None
                else context.allowed_programs
            ),
            command_timeout_s=settings.tool_command_timeout_s,
            output_cap=settings.tool_output_cap_chars,
            environment=dict(os.environ),
            tool_level=settings.tool_level,
        )
        toolbox = Toolbox(context.worktree, policy, context.remaining_s, stop=context.stop)
        usage = Usage(settings.llm_input_cost_per_1k, settings.llm_output_cost_per_1k)
        loop = ToolLoop(context, toolbox, usage, limits=LoopLimits.of(settings))
        try:
            return loop.run(client, settings.llm_model or "", settings.llm_max_turns)
        finally:
            client.close()


@dataclass(frozen=True)
class LoopLimits:
    """How the tool loop keeps its requests bounded and retries them."""

    request_timeout_s: float
    retry: RetryPolicy
    context_max_chars: int
    tool_result_max_chars: int
    sampling: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Settings) -> LoopLimits:
        return cls(
            request_timeout_s=settings.llm_request_timeout_s,
            retry=RetryPolicy(
                retries=settings.llm_max_retries,
                backoff_initial_s=settings.llm_retry_backoff_s,
                backoff_max_s=settings.llm_retry_backoff_max_s,
                retry_after_max_s=settings.llm_retry_after_max_s,
            ),
            context_max_chars=settings.llm_context_max_chars,
            tool_result_max_chars=settings.llm_tool_result_max_chars,
            sampling=dict(settings.llm_sampling),
        )


class ToolLoop:
    """One conversation with the model, bounded by turns, deadline and budget."""

    def __init__(
        self, context: EngineContext, toolbox: Toolbox, usage: Usage, *, limits: LoopLimits
    ) -> None:
        self.context = context
        self.limits = limits
        self.toolbox = toolbox
        self.usage = usage
        self.messages: list[Any] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _task(context)},
        ]

    def run(self, client: openai.OpenAI, model: str, max_turns: int) -> EngineResult:
        for _ in range(max_turns):
            why = self.context.should_stop()
            if why:
                return self.result("failed", why, retryable=True)
            over = self._over_budget()
            if over:
                return self.result("failed", over)
            try:
                response = self._ask(client, model)
            except openai.APIError as error:
                return self.result("failed", f"the model endpoint failed: {error}", retryable=True)
            self.usage.add(response)
            if not response.choices:
                return self.result("failed", "the model endpoint answered without a choice")
            finished = self._answer(response.choices[0].message)
            if finished is not None:
                return finished
        return self.result("failed", f"turn limit reached: {max_turns} turns without `finish`")

    def _ask(self, client: openai.OpenAI, model: str) -> Any:
        """One chat completion of the bounded conversation, retried on transient failures."""
        bound_conversation(self.messages, self.limits.context_max_chars)

        def ask() -> Any:
            timeout = max(1.0, min(self.limits.request_timeout_s, self.context.remaining_s()))
            return client.chat.completions.create(
                model=model,
                messages=self.messages,
                tools=tools_at(self.toolbox.policy.tool_level),
                timeout=timeout,
                **self.limits.sampling,
            )

        return call_with_retries(
            ask,
            self.limits.retry,
            remaining_s=self.context.remaining_s,
            cancelled=self.context.stop,
        )

    def _answer(self, message: Any) -> EngineResult | None:
        """Run the tools the model called; the result when it called `finish`."""
        calls = [call for call in message.tool_calls or [] if getattr(call, "function", None)]
        self.messages.append(_assistant_message(message.content, calls))
        if not calls:
            self.messages.append({"role": "user", "content": NUDGE})
            return None
        for call in calls:
            name, arguments = call.function.name, call.function.arguments
            if name == "finish":
                finished = self._finish(arguments)
                if isinstance(finished, EngineResult):
                    return finished
                text = finished
            else:
                over = self._over_tool_budget()
                if over:
                    return self.result("failed", over)
                text, use = self.toolbox.call(name, arguments)
                self.context.record_tool(use)
                text = clip_text(text, self.limits.tool_result_max_chars)
            self.messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
            self.context.signal(self._progress(name))
        return None

    def _finish(self, arguments: str) -> EngineResult | str:
        try:
            args = json.loads(arguments or "{}")
        except json.JSONDecodeError as error:
            return f"error: the arguments are not valid JSON: {error}"
        outcome = args.get("outcome", "completed") if isinstance(args, dict) else None
        summary = args.get("summary") if isinstance(args, dict) else None
        if outcome not in OUTCOMES or not isinstance(summary, str) or not summary.strip():
            return "error: finish needs a non-empty `summary` and `outcome` in " + str(OUTCOMES)
        return self.result(outcome, summary)

    def result(self, outcome: Outcome, summary: str, *, retryable: bool = False) -> EngineResult:
        return EngineResult(
            outcome=outcome,
            summary=summary,
            reason=None if outcome == "completed" else summary,
            retryable=retryable,
            tests_run=list(self.toolbox.commands_run),
            tokens=self.usage.tokens,
            cost_usd=self.usage.cost_usd,
            tool_calls=self.toolbox.calls,
        )

    def _over_budget(self) -> str | None:
        budget = self.context.spec.budget
        if budget.tokens is not None and self.usage.tokens.total > budget.tokens:
            return f"budget_exceeded:tokens ({self.usage.tokens.total} > {budget.tokens})"
        if budget.tool_calls is not None and self.toolbox.calls > budget.tool_calls:
            return f"budget_exceeded:tool_calls ({self.toolbox.calls} > {budget.tool_calls})"
        if budget.cost_usd is not None and self.usage.cost_usd > budget.cost_usd:
            return f"budget_exceeded:cost_usd ({self.usage.cost_usd} > {budget.cost_usd})"
        return None

    def _over_tool_budget(self) -> str | None:
        """Why one more tool call is over the Order's budget, checked before each call."""
        limit = self.context.spec.budget.tool_calls
        if limit is not None and self.toolbox.calls >= limit:
            return f"budget_exceeded:tool_calls ({limit} used, the model asked for more)"
        return None

    def _progress(self, tool: str) -> Progress:
        return Progress(
            note=f"called {tool}",
            tool_calls=self.toolbox.calls,
            files_changed=len(self.toolbox.written),
            tokens=self.usage.tokens,
        )


def _assistant_message(content: str | None, calls: list[Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content or ""}
    if calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments},
            }
            for call in calls
        ]
    return message


def _task(context: EngineContext) -> str:
    """The task as vault wrote it into the worktree, else as the Order states it."""
    task_file = context.worktree / ".ironclaw" / "task.md"
    try:
        return task_file.read_text(encoding="utf-8")
    except OSError:
        spec = context.spec
        criteria = "\n".join(f"- {c}" for c in spec.success_criteria)
        return f"# Order {spec.key}\n\n{spec.objective}\n\n{criteria}".strip()


def create_engine(settings: Settings) -> OpenAIEngine:
    """Entry point `ironclaw.engines: openai`; refuses at once without a model configured."""
    if not settings.llm_base_url or not settings.llm_model:
        raise EngineUnavailable(NO_MODEL)
    return OpenAIEngine(settings)
