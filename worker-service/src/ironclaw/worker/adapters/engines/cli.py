"""The `cli` engine: a coding-agent CLI (Codex, Claude Code, Aider, any other) run headless in
the worktree; its output is kept as an artifact, and its exit status says how it went.

The agent runs without a terminal or stdin, in its own process group (killed at the timeout,
on cancel, or at the order's deadline), with the scrubbed environment plus the one API key its
profile names. What it changed is committed by the worker like any engine's work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from ironclaw.contracts.kit.secrets import env_secret
from ironclaw.worker.adapters.engines.cli_reports import AgentReport, read_report
from ironclaw.worker.adapters.engines.processes import ProcessResult, run_process, tail
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import (
    EngineContext,
    EngineResult,
    EngineUnavailable,
    Progress,
)
from ironclaw.worker.domain.policy import scrubbed_environment

TEMPLATES: dict[str, list[str]] = {
    "codex": ["codex", "exec", "--full-auto", "--skip-git-repo-check", "{prompt}"],
    "claude": ["claude", "-p", "{prompt}", "--output-format", "json"],
    "aider": ["aider", "--yes-always", "--no-auto-commits", "--no-check-update", "--message",
              "{prompt}"],
}  # fmt: skip
"""Headless invocations of the known agents; `generic` takes the profile's `cli_command`."""
MODEL_AT = {"codex": 2, "claude": 1, "aider": 1}
"""Where `--model <model>` goes in each template (after `codex exec`, after the others' name)."""
SUMMARY_TAIL = 2000


def command_for(agent: str, command: list[str], *, prompt: str, model: str | None) -> list[str]:
    """The argv that runs `agent` on `prompt` (placeholders `{prompt}` and `{model}` filled)."""
    template = list(command) if agent == "generic" else list(TEMPLATES[agent])
    if not template:
        raise EngineUnavailable("the generic cli agent needs a command (cli_command)")
    if model and agent in MODEL_AT:
        template[MODEL_AT[agent] : MODEL_AT[agent]] = ["--model", model]
    return [part.replace("{prompt}", prompt).replace("{model}", model or "") for part in template]


class CliEngine:
    """Runs the configured agent once, bounded by its timeout and the order's deadline."""

    name = "cli"

    def __init__(self, settings: Settings, environment: Mapping[str, str]) -> None:
        if settings.cli_agent is None:
            raise EngineUnavailable("no cli agent configured: a profile sets cli_agent")
        if settings.cli_agent == "generic" and not settings.cli_command:
            raise EngineUnavailable("the generic cli agent needs a command (cli_command)")
        self._settings = settings
        self._environment = _agent_environment(settings, environment)

    def run(self, context: EngineContext) -> EngineResult:
        settings = self._settings
        agent = settings.cli_agent or "generic"
        argv = command_for(
            agent, settings.cli_command, prompt=_prompt(context), model=settings.cli_model
        )
        timeout = min(settings.cli_timeout_s, context.remaining_s())
        context.signal(Progress(progress=0.0, note=f"running {argv[0]}"))
        done = run_process(
            argv,
            cwd=context.worktree,
            environment=self._environment,
            timeout_s=timeout,
            output_cap=settings.cli_output_cap_chars,
            stop=context.stop,
        )
        artifact = context.store_artifact(f"{agent}-output.log", done.output.encode("utf-8"))
        report = read_report(done.output)
        result = _judged(argv[0], done, report, context, timed_out_after=timeout)
        return _with(result, report, [artifact] if artifact else [])


def _judged(
    program: str,
    done: ProcessResult,
    report: AgentReport,
    context: EngineContext,
    *,
    timed_out_after: float,
) -> EngineResult:
    """The outcome an agent's exit says: 0 completed, anything else failed."""
    output_tail = tail(done.output.strip(), SUMMARY_TAIL)
    if done.stopped:
        why = context.should_stop() or "stopped"
        return _failed(f"{why}; the agent {program} was stopped", retryable=True)
    if done.timed_out:
        why = context.should_stop() or f"the agent {program} timed out after {timed_out_after:g} s"
        return _failed(f"{why}\n{output_tail}", retryable=True)
    if done.exit_code is None:
        return _failed(done.output, retryable=False)
    if done.exit_code != 0:
        return _failed(f"the agent {program} exited {done.exit_code}\n{output_tail}")
    if report.is_error:
        return _failed(f"the agent {program} reported an error: {report.summary or output_tail}")
    summary = report.summary or output_tail or f"the agent {program} finished"
    return EngineResult(outcome="completed", summary=summary)


def _failed(reason: str, *, retryable: bool = False) -> EngineResult:
    return EngineResult(outcome="failed", summary=reason, reason=reason, retryable=retryable)


def _with(result: EngineResult, report: AgentReport, artifacts: list[str]) -> EngineResult:
    return replace(result, tokens=report.tokens, cost_usd=report.cost_usd, artifacts=artifacts)


def _prompt(context: EngineContext) -> str:
    """The task as vault wrote it into the worktree, else the Order's objective."""
    try:
        return (context.worktree / ".ironclaw" / "task.md").read_text(encoding="utf-8")
    except OSError:
        return context.spec.objective


def _agent_environment(settings: Settings, environment: Mapping[str, str]) -> dict[str, str]:
    """The scrubbed environment, plus the API key variables the profile passes the agent."""
    passed = scrubbed_environment(environment)
    for name in settings.cli_passed_env:
        value = env_secret(name, environment)
        if value is not None:
            passed[name] = value
    return passed


def create_engine(settings: Settings) -> CliEngine:
    """Entry point `ironclaw.engines: cli`."""
    return CliEngine(settings, os.environ)
