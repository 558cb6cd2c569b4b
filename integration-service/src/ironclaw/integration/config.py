"""Settings of the integration service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the integration service reads from `IRONCLAW_*`."""

    service_name: str = "integration"
    http_port: int = Field(default=8013, ge=1, le=65535)
    vault_url: str = "http://127.0.0.1:8002"
    vault_retry_s: float = Field(
        default=30.0, ge=0, description="how long to retry a vault call the network dropped"
    )
    gate_timeout_s: float = Field(
        default=600.0, gt=0, le=86_400, description="a gate's timeout when it names none"
    )
    output_tail_chars: int = Field(
        default=2000, ge=100, le=100_000, description="gate output kept in the ledger event"
    )
    gate_output_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="gate output kept for the artifact (the end of it, when longer)",
    )
