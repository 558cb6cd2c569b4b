"""Settings of the worker service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ironclaw.contracts.kit.settings import LLMSettings

DEFAULT_ALLOWED_PROGRAMS = (
    "python",
    "python3",
    "pytest",
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "grep",
    "diff",
    "echo",
)
"""What `run_command` may start by default: interpreters and tests, and read-only utilities.

Left out on purpose: shells (`sh`, `bash`: a string would run anything), `git` (the worker owns
the attempt's history and branch), network clients and package managers. The list is a policy,
not a sandbox (`python` can do whatever the worker's user can); isolation is the container's.
"""


class Settings(LLMSettings):
    """What the worker service reads from `IRONCLAW_*` (the model's endpoint among them)."""

    service_name: str = "worker"
    http_port: int = Field(default=8011, ge=1, le=65535)
    vault_url: str = "http://127.0.0.1:8002"

    # The openai engine's tool loop.
    llm_max_turns: int = Field(default=30, ge=1, le=500)
    llm_request_timeout_s: float = Field(default=120.0, gt=0)
    llm_max_retries: int = Field(
        default=3, ge=0, le=10, description="retries of a model call on 429, 5xx or a timeout"
    )
    llm_retry_backoff_s: float = Field(default=0.5, ge=0, description="first backoff")
    llm_retry_backoff_max_s: float = Field(default=30.0, ge=0)
    llm_retry_after_max_s: float = Field(
        default=60.0, ge=0, description="the longest Retry-After the engine honours"
    )
    llm_context_max_chars: int = Field(
        default=200_000, ge=2_000, description="past this, the oldest turns are dropped"
    )
    llm_tool_result_max_chars: int = Field(
        default=20_000, ge=200, description="a longer tool result is clipped with a marker"
    )
    llm_sampling: dict[str, float | int] = Field(
        default_factory=dict, description="extra request fields: temperature, top_p, max_tokens"
    )
    llm_input_cost_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k prompt tokens")
    llm_output_cost_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k completion")

    # The tool policy of `run_command` (a JSON list in IRONCLAW_TOOL_ALLOWED_PROGRAMS).
    tool_allowed_programs: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_PROGRAMS))
    tool_command_timeout_s: float = Field(default=300.0, gt=0)
    tool_output_cap_chars: int = Field(default=16_000, ge=200)
    tool_level: Literal["read", "write", "run"] = "run"

    # The cli engine (usually set by a model profile: cli_agent, cli_command, ...).
    cli_agent: Literal["codex", "claude", "aider", "generic"] | None = None
    cli_command: list[str] = Field(default_factory=list, description="argv with {prompt}")
    cli_model: str | None = None
    cli_timeout_s: float = Field(default=1800.0, gt=0)
    cli_output_cap_chars: int = Field(
        default=2_000_000, ge=1000, description="an agent's output kept (head and tail)"
    )
    cli_passed_env: list[str] = Field(
        default_factory=list, description="variables the agent gets besides the scrubbed set"
    )

    # Attempts: None = min(10 s, heartbeat_timeout_s / 3) of the Order's budget.
    heartbeat_interval_s: float | None = Field(default=None, gt=0)
    engine_grace_s: float = Field(
        default=30.0, ge=0, description="how long past its TTL an engine may take to return"
    )
