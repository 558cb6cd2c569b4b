"""Settings of the worker service."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the worker service reads from `IRONCLAW_*`."""

    service_name: str = "worker"
    http_port: int = Field(default=8011, ge=1, le=65535)
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
