"""The `command` engine: the Order's commands, run in the worktree until one fails."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ironclaw.worker.adapters.engines.processes import run_process, tail
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import EngineContext, EngineResult, Progress
from ironclaw.worker.domain.policy import scrubbed_environment

REASON_TAIL = 2000


class CommandEngine:
    """Deterministic steps (`commands: [...]`), each run with `bash -c`; needs no model."""

    name = "command"

    def __init__(self, *, output_cap: int, environment: Mapping[str, str]) -> None:
        self._output_cap = output_cap
        self._environment = scrubbed_environment(environment)

    def run(self, context: EngineContext) -> EngineResult:
        commands = context.spec.commands
        if not commands:
            return _failed("the order lists no commands for the command engine", [])
        ran: list[str] = []
        for index, command in enumerate(commands):
            why = context.should_stop()
            if why:
                return _failed(why, ran, retryable=True)
            context.signal(
                Progress(progress=index / len(commands), note=command[:200], tool_calls=index)
            )
            done = run_process(
                ["bash", "-c", command],
                cwd=context.worktree,
                environment=self._environment,
                timeout_s=context.remaining_s(),
                output_cap=self._output_cap,
                stop=context.stop,
            )
            ran.append(command)
            if done.stopped:
                why = context.should_stop() or "stopped"
                return _failed(f"{why}; stopped during: {command}", ran, retryable=True)
            if done.timed_out:
                ttl = context.spec.budget.ttl_s
                reason = f"budget_exceeded:wall_time (the order's TTL is {ttl} s): {command}"
                return _failed(f"{reason}\n{tail(done.output, REASON_TAIL)}", ran, retryable=True)
            if not done.succeeded:
                status = "could not start" if done.exit_code is None else f"exit {done.exit_code}"
                reason = f"command failed ({status}): {command}\n{tail(done.output, REASON_TAIL)}"
                return _failed(reason, ran)
        listing = "\n".join(f"- {command}" for command in commands)
        summary = f"ran {len(commands)} command{'s' if len(commands) > 1 else ''}\n\n{listing}"
        return EngineResult(
            outcome="completed", summary=summary, tests_run=ran, tool_calls=len(ran)
        )


def _failed(reason: str, ran: list[str], *, retryable: bool = False) -> EngineResult:
    return EngineResult(
        outcome="failed",
        summary=reason,
        reason=reason,
        retryable=retryable,
        tests_run=ran,
        tool_calls=len(ran),
    )


def create_engine(settings: Settings) -> CommandEngine:
    """Entry point `ironclaw.engines: command`."""
    return CommandEngine(output_cap=settings.tool_output_cap_chars, environment=os.environ)
