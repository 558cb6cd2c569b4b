"""Settings of the observer service."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import PatrolSettings


class Settings(PatrolSettings):
    """What the observer service reads from `IRONCLAW_*` (its patrol interval among them)."""

    service_name: str = "observer"
    http_port: int = Field(default=8012, ge=1, le=65535)
    vault_url: str = "http://127.0.0.1:8002"
    client_retry_s: float = Field(
        default=5.0, ge=0, description="how long a round retries a ledger or vault out of reach"
    )
