"""The settings base every service extends: `IRONCLAW_` prefix, secrets also from `*_FILE`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, computed_field
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "IRONCLAW_"


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads `IRONCLAW_<FIELD>_FILE` (Docker/Kubernetes secrets) for fields not set directly."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = f"{ENV_PREFIX}{field_name.upper()}_FILE"
        path = os.environ.get(variable)
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text().strip(), field_name, False
        except OSError as error:
            raise ValueError(
                f"{variable} points at {path!r}, which cannot be read: {error}"
            ) from None

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, field_name)
            if value is not None:
                found[key] = value
        return found


class ServiceSettings(BaseSettings):
    """What every service understands (ARCHITECTURE section 8)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    service_name: str = "ironclaw"
    home: Path = Path(".ironclaw")
    database_url: str | None = None
    broker_url: str | None = None
    internal_token: SecretStr | None = None
    ledger_url: str = "http://127.0.0.1:8001"
    log_level: str = "INFO"
    log_json: bool = True
    statsd_host: str | None = None
    statsd_port: int = 8125
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    garrison_dir: Path = Field(
        default=Path("garrison"),
        description="the garrison folder: playbooks/, config/profiles.toml; relative to the cwd",
    )

    @property
    def profiles_file(self) -> Path:
        """Where the model profiles are: `<garrison>/config/profiles.toml`."""
        return self.garrison_dir / "config" / "profiles.toml"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_database_url(self) -> str:
        """The ledger database: `IRONCLAW_DATABASE_URL`, else SQLite under `IRONCLAW_HOME`."""
        return self.database_url or f"sqlite:///{self.home.resolve() / 'ledger.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource)
        return (init_settings, env_settings, FileSecretsSource(settings_cls), dotenv_settings)


class PatrolSettings(ServiceSettings):
    """What a patrolling service reads besides the common settings: how often it patrols."""

    patrol_interval_s: float = Field(default=30.0, gt=0)
    lease_ttl_s: float = Field(
        default=90.0,
        gt=0,
        description="how long a patrol's Redis lease outlives its holder's last round",
    )


class LLMSettings(ServiceSettings):
    """What a service calling a language model reads besides the common settings."""

    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
