"""Settings of the vault service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings

MAX_ARTIFACT_BYTES = 50 * 1024 * 1024


class Settings(ServiceSettings):
    """What the vault service reads from `IRONCLAW_*`."""

    service_name: str = "vault"
    http_port: int = Field(default=8002, ge=1, le=65535)
    max_artifact_bytes: int = Field(default=MAX_ARTIFACT_BYTES, ge=1)
