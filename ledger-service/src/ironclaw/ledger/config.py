"""Ledger settings."""

from __future__ import annotations

from pydantic import Field

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "ledger"
    http_port: int = Field(default=8001, ge=1, le=65535)
    snapshot_every: int = Field(default=100, ge=1, description="snapshot a stream every N versions")
    feed_max_limit: int = Field(default=1000, ge=1)
    relay_batch_size: int = Field(default=100, ge=1, le=10_000)
    relay_idle_s: float = Field(
        default=0.2, gt=0, description="poll interval; Postgres wakes the relay at once"
    )
    relay_max_backoff_s: float = Field(default=10.0, gt=0)
    relay_health_port: int | None = Field(
        default=None, ge=1, le=65535, description="serve the relay's /health here (compose)"
    )
