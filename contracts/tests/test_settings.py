from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from ironclaw.contracts.kit.settings import LLMSettings, PatrolSettings, ServiceSettings


class GatewaySettings(ServiceSettings):
    """How a service extends the base: its own secrets get the `_FILE` variant for free."""

    github_webhook_secret: SecretStr | None = None


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test sees only the IRONCLAW_ variables it sets, from a cwd of its own."""
    for name in list(os.environ):
        if name.upper().startswith("IRONCLAW_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_reads_variables_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_SERVICE_NAME", "ledger")
    monkeypatch.setenv("IRONCLAW_HTTP_PORT", "8001")
    monkeypatch.setenv("IRONCLAW_LOG_JSON", "false")
    monkeypatch.setenv("HTTP_PORT", "9999")
    monkeypatch.setenv("SERVICE_NAME", "unprefixed")

    settings = ServiceSettings()

    assert settings.service_name == "ledger"
    assert settings.http_port == 8001
    assert settings.log_json is False


def test_defaults_without_environment() -> None:
    settings = ServiceSettings()

    assert settings.internal_token is None
    assert settings.database_url is None
    assert settings.home == Path(".ironclaw")
    assert settings.http_host == "127.0.0.1"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_HTTP_PORT", "70000")
    with pytest.raises(ValidationError, match="http_port"):
        ServiceSettings()


def test_secret_read_from_file_when_plain_variable_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "internal_token"
    secret_file.write_text("s3cret-from-file\n")
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN_FILE", str(secret_file))

    settings = ServiceSettings()

    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == "s3cret-from-file"
    assert "s3cret" not in repr(settings)


def test_plain_variable_wins_over_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "internal_token"
    secret_file.write_text("from-file")
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN_FILE", str(secret_file))
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN", "from-env")

    settings = ServiceSettings()

    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == "from-env"


def test_explicit_argument_wins_over_both(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "internal_token"
    secret_file.write_text("from-file")
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN_FILE", str(secret_file))
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN", "from-env")

    settings = ServiceSettings(internal_token=SecretStr("from-code"))

    assert settings.internal_token is not None
    assert settings.internal_token.get_secret_value() == "from-code"


def test_subclass_fields_can_come_from_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "github"
    secret_file.write_text("  hook-secret  \n")
    monkeypatch.setenv("IRONCLAW_GITHUB_WEBHOOK_SECRET_FILE", str(secret_file))

    settings = GatewaySettings()

    assert settings.github_webhook_secret is not None
    assert settings.github_webhook_secret.get_secret_value() == "hook-secret"


def test_missing_secret_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "token"
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN_FILE", str(missing))

    with pytest.raises(ValueError, match="IRONCLAW_INTERNAL_TOKEN_FILE") as raised:
        ServiceSettings()

    assert str(missing) in str(raised.value)
    assert "cannot be read" in str(raised.value)


def test_unreadable_secret_path_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A directory is a path that exists but is not a readable file.
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN_FILE", str(tmp_path))

    with pytest.raises(
        ValueError, match=r"IRONCLAW_INTERNAL_TOKEN_FILE points at .* cannot be read"
    ):
        ServiceSettings()


def test_database_url_defaults_to_sqlite_under_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "state"
    monkeypatch.setenv("IRONCLAW_HOME", str(home))

    settings = ServiceSettings()

    assert settings.home == home
    assert settings.resolved_database_url == f"sqlite:///{home / 'ledger.db'}"


def test_default_home_is_resolved_against_the_working_directory(tmp_path: Path) -> None:
    expected = tmp_path.resolve() / ".ironclaw" / "ledger.db"
    assert ServiceSettings().resolved_database_url == f"sqlite:///{expected}"


def test_database_url_wins_over_the_sqlite_default(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://ironclaw@db/ironclaw"
    monkeypatch.setenv("IRONCLAW_DATABASE_URL", url)

    settings = ServiceSettings()

    assert settings.resolved_database_url == url
    assert settings.model_dump()["resolved_database_url"] == url


def test_settings_are_frozen() -> None:
    settings = ServiceSettings()
    with pytest.raises(ValidationError):
        settings.http_port = 1  # type: ignore[misc]


def test_a_patrol_runs_every_30_s_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PatrolSettings().patrol_interval_s == 30.0

    monkeypatch.setenv("IRONCLAW_PATROL_INTERVAL_S", "0.5")

    assert PatrolSettings().patrol_interval_s == 0.5


def test_a_patrol_interval_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRONCLAW_PATROL_INTERVAL_S", "0")

    with pytest.raises(ValidationError, match="patrol_interval_s"):
        PatrolSettings()


def test_the_model_endpoint_comes_from_env_and_its_key_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IRONCLAW_LLM_BASE_URL", "http://127.0.0.1:9999/v1")
    monkeypatch.setenv("IRONCLAW_LLM_API_KEY", "sk-test")
    monkeypatch.setenv("IRONCLAW_LLM_MODEL", "small")

    settings = LLMSettings()

    assert settings.llm_base_url == "http://127.0.0.1:9999/v1"
    assert settings.llm_model == "small"
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-test"
    assert "sk-test" not in repr(settings)
