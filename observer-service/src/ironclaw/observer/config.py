"""Settings of the observer service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import PatrolSettings
from ironclaw.observer.domain.loops import LoopRules


class Settings(PatrolSettings):
    """What the observer service reads from `IRONCLAW_*` (its patrol interval among them)."""

    service_name: str = "observer"
    http_port: int = Field(default=8012, ge=1, le=65535)
    vault_url: str = "http://127.0.0.1:8002"
    client_retry_s: float = Field(
        default=5.0, ge=0, description="how long a round retries a ledger or vault out of reach"
    )
    loop_repeats: int = Field(
        default=5,
        ge=2,
        description="an alive attempt is looping when it makes the same tool call (tool and "
        "arguments) this many times in a row while its changed files do not grow",
    )
    loop_stale_signals: int = Field(
        default=30,
        ge=2,
        description="an alive attempt is looping when this many Signals in a row report the "
        "same progress, tool calls, files changed and tokens (and no tool call came between)",
    )
    loop_stale_min_s: float = Field(
        default=600.0,
        ge=0,
        description="...and the oldest of those Signals is at least this old: keep it above the "
        "longest single step of a healthy unit (one model call with its retries, one command "
        "up to the worker's IRONCLAW_TOOL_COMMAND_TIMEOUT_S)",
    )

    def loop_rules(self) -> LoopRules:
        """The looping verdicts' thresholds, as the patrol's domain takes them."""
        return LoopRules(
            repeats=self.loop_repeats,
            stale_signals=self.loop_stale_signals,
            stale_min_s=self.loop_stale_min_s,
        )
