"""Settings of the co service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import LLMSettings


class Settings(LLMSettings):
    """What the co service reads from `IRONCLAW_*` (the model's endpoint among them)."""

    service_name: str = "co"
    http_port: int = Field(default=8010, ge=1, le=65535)
