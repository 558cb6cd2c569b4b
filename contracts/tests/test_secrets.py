"""Secrets: read from a variable or its `*_FILE`, redacted in text, values, bytes and logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr

from ironclaw.contracts.kit.logging import configure_logging, get_logger
from ironclaw.contracts.kit.secrets import (
    REDACTED,
    Redactor,
    env_secret,
    environment_secrets,
    settings_secrets,
)
from ironclaw.contracts.kit.settings import ServiceSettings


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    "token",
    [
        "sk-abcdefghijklmnopqrstuvwx",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUv_12",
        "sk-ant-api03-abcdefghijklmnop",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0123456789_abcdef",
        "xoxb-1234567890-abcdefghij",
        "xoxp-1234567890-abcdefghij",
        "AKIAIOSFODNN7EXAMPLE",
    ],
)
def test_common_token_shapes_are_redacted(token: str) -> None:
    assert Redactor().text(f"the key is {token}, keep it safe") == (
        f"the key is {REDACTED}, keep it safe"
    )


def test_bearer_tokens_and_known_values_are_redacted_everywhere_in_a_value() -> None:
    redactor = Redactor(["hunter2-secret", "", "abc"])  # blank and short ones are ignored
    value = {
        "header": "Authorization: Bearer abc.def.ghi-123",
        "nested": [("said hunter2-secret twice: hunter2-secret",), 3],
    }
    assert redactor.value(value) == {
        "header": f"Authorization: Bearer {REDACTED}",
        "nested": [(f"said {REDACTED} twice: {REDACTED}",), 3],
    }
    assert redactor.text("abc is a word") == "abc is a word"
    assert redactor.bytes(b"x hunter2-secret \xff") == f"x {REDACTED} ".encode() + b"\xff"


def test_keys_come_from_a_variable_or_its_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-the-file\n")
    assert env_secret("API_KEY", {"API_KEY": "direct"}) == "direct"
    assert env_secret("API_KEY", {"API_KEY_FILE": str(key_file)}) == "from-the-file"
    assert env_secret("API_KEY", {"API_KEY_FILE": str(tmp_path / "missing")}) is None
    assert env_secret("API_KEY", {}) is None


def test_secret_named_variables_and_settings_fields_are_found(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("file-held-token")
    environment = {
        "OPENAI_API_KEY": "key-one-value",
        "IRONCLAW_INTERNAL_TOKEN_FILE": str(token_file),
        "PATH": "/usr/bin",
    }
    assert sorted(environment_secrets(environment)) == ["file-held-token", "key-one-value"]
    settings = ServiceSettings(internal_token=SecretStr("internal-token-value"))
    assert settings_secrets(settings) == ["internal-token-value"]


def test_log_lines_never_carry_a_configured_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "provider-key-value")
    configure_logging("worker", secrets=["configured-secret-value"])
    log = get_logger()

    log.info("worker.test", said="configured-secret-value", env="provider-key-value")
    try:
        raise RuntimeError("failed with sk-abcdefghijklmnopqrstuvwx")
    except RuntimeError:
        log.exception("worker.failed")
    logging.getLogger("lib").warning("lib says configured-secret-value")

    captured = capsys.readouterr().err
    assert "configured-secret-value" not in captured
    assert "provider-key-value" not in captured
    assert "sk-abcdefghijklmnopqrstuvwx" not in captured
    lines = [json.loads(line) for line in captured.splitlines()]
    assert lines[0]["said"] == REDACTED
    assert len(lines) == 3
