"""Gateway settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, SecretStr, field_validator

from ironclaw.contracts.kit.settings import ServiceSettings

REDIS_SCHEMES = ("redis", "rediss")
MIB = 1024 * 1024


class Settings(ServiceSettings):
    """What the gateway reads from `IRONCLAW_*`."""

    service_name: str = "gateway"
    http_port: int = Field(default=8000, ge=1, le=65535)
    ready_timeout_s: float = Field(default=2.0, gt=0, description="per dependency in /ready")
    vault_url: str = "http://127.0.0.1:8002"
    api_keys: SecretStr | None = Field(
        default=None, description="comma-separated API keys; unset: the API is open (dev only)"
    )
    rate_limit: str | None = Field(
        default="1200/minute",
        description="per API key (per client address when open), e.g. '60/minute; 1000/hour'",
    )
    idempotency_ttl_s: int = Field(default=86_400, ge=1, description="how long replies are kept")
    idempotency_wait_s: float = Field(
        default=30.0, ge=0, description="how long a duplicate waits for the first request"
    )
    max_body_bytes: int = Field(default=MIB, ge=1)
    run_wait_poll_s: float = Field(default=0.25, gt=0, description="`wait_s` polling interval")
    events_poll_s: float = Field(default=0.5, gt=0, description="SSE follow polling interval")
    sse_ping_s: float = Field(default=15.0, gt=0)
    dependency_timeout_s: float = Field(default=10.0, gt=0, description="per ledger/vault call")
    dependency_retry_s: float = Field(
        default=3.0, ge=0, description="how long a call retries an unreachable ledger/vault"
    )
    vault_timeout_s: float = Field(default=60.0, gt=0, description="cloning can take a while")

    # Webhooks (ARCHITECTURE section 6): a provider whose secret is unset refuses its webhooks.
    github_webhook_secret: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC key of Jira's X-Hub-Signature; wins over the token"
    )
    jira_webhook_token: SecretStr | None = Field(
        default=None, description="shared token in `?token=` when Jira sends no signature"
    )
    sentry_webhook_secret: SecretStr | None = Field(
        default=None, description="the Sentry integration's client secret"
    )
    webhook_theaters: dict[str, str] = Field(
        default_factory=dict,
        description='JSON map of "github:org/repo", "slack:C123", "jira:PROJ", "sentry:project" '
        '(or "<provider>:*") to theater names',
    )
    webhook_mention: str = Field(default="@ironclaw", min_length=2)
    webhook_label: str | None = Field(default="ironclaw", description="GitHub / Jira label")
    slack_timestamp_tolerance_s: int = Field(default=300, ge=1)
    public_url: str | None = Field(default=None, description="base of run links in replies")
    github_api_url: str = "https://api.github.com"
    github_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api"
    slack_bot_token: SecretStr | None = None
    jira_base_url: str | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    reply_timeout_s: float = Field(default=10.0, gt=0, description="per connector call")
    reply_attempts: int = Field(default=4, ge=1, description="connector tries before failing")
    reply_backoff_s: float = Field(default=0.5, ge=0, description="first retry wait, doubling")

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            parse_many(value)
        except ValueError as error:
            raise ValueError(
                f"IRONCLAW_RATE_LIMIT {value!r} is not a rate limit like '60/minute': {error}"
            ) from None
        return value

    @field_validator("api_keys")
    @classmethod
    def _api_keys_hold_a_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not any(k.strip() for k in value.get_secret_value().split(",")):
            raise ValueError("IRONCLAW_API_KEYS is set but holds no key; unset it to run open")
        return value

    @property
    def api_key_list(self) -> list[str]:
        """The configured API keys; empty when the API is open."""
        if self.api_keys is None:
            return []
        keys = [key.strip() for key in self.api_keys.get_secret_value().split(",")]
        return [key for key in keys if key]

    @property
    def redis_url(self) -> str | None:
        """The broker URL when it is Redis: rate limits and idempotency replies are kept there."""
        if self.broker_url and urlsplit(self.broker_url).scheme in REDIS_SCHEMES:
            return self.broker_url
        return None
