"""Settings of the co service."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ironclaw.contracts.kit.settings import ServiceSettings


class Settings(ServiceSettings):
    """What the co service reads from `IRONCLAW_*`."""

    service_name: str = "co"
    http_port: int = Field(default=8010, ge=1, le=65535)
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
