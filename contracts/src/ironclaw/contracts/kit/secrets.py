"""Secrets: read from the environment or a `*_FILE`, and redacted wherever text leaves a
service (log lines, event payloads, artifacts).

A `Redactor` knows the secret values this process was configured with (settings' `SecretStr`
fields, keys read for model profiles, the contents of `*_FILE` secrets) and the shapes common
tokens have (`sk-...`, `ghp_...`, `xoxb-...`, `Bearer ...`), and replaces both with
`[REDACTED]`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8  # shorter values would redact ordinary words and names
TOKEN_SHAPES = re.compile(
    r"(?:"
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key ids
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}"  # bearer tokens in headers
    r")"
)


def env_secret(name: str, environment: Mapping[str, str]) -> str | None:
    """The value of variable `name`, else the contents of the file `<name>_FILE` names."""
    value = environment.get(name)
    if value:
        return value
    path = environment.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


class Redactor:
    """Replaces known secret values and common token shapes in text and nested values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Know these values too (blank and very short ones are ignored)."""
        usable = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET_LENGTH}
        with self._lock:
            self._secrets = self._secrets | usable

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def text(self, value: str) -> str:
        """`value` with every known secret and token-shaped string replaced."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, REDACTED)
        return TOKEN_SHAPES.sub(REDACTED, value)

    def value(self, value: Any) -> Any:
        """`value` (str, list, tuple, dict, nested) with its strings redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(item) for item in value)
        return value

    def model(self, model: BaseModel) -> Any:
        """A pydantic model rebuilt with its string fields redacted."""
        return type(model).model_validate(self.value(model.model_dump()))

    def bytes(self, data: bytes) -> bytes:
        """UTF-8 `data` redacted (undecodable bytes kept as they are)."""
        text = data.decode("utf-8", errors="surrogateescape")
        return self.text(text).encode("utf-8", errors="surrogateescape")

    def log_processor(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> dict[str, Any]:
        """A structlog processor redacting every value of a log line."""
        return {key: self.value(item) for key, item in event.items()}


def settings_secrets(settings: BaseModel) -> list[str]:
    """The values of a settings object's `SecretStr` fields."""
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
    return found


SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)


def environment_secrets(environment: Mapping[str, str]) -> list[str]:
    """Values of variables named like secrets (`*_KEY`, `*_TOKEN`, ...), and the contents of
    the files their `*_FILE` variants name."""
    found = []
    for name, value in environment.items():
        if name.endswith("_FILE") and SECRET_NAME.search(name[: -len("_FILE")]):
            secret = env_secret(name[: -len("_FILE")], {name: value})
            if secret:
                found.append(secret)
        elif SECRET_NAME.search(name) and value:
            found.append(value)
    return found
