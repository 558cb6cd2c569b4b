"""Model profiles: which engine runs an Order, against which model, at what price, within
which budgets (`garrison/config/profiles.toml`, overridable per theater in `.ironclaw.toml`
`[profiles.<name>]`, chosen per Order or Run by name).

A profile names the environment variable holding its API key (`api_key_env`), never the key:
profiles are listed by the gateway as they are written.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROFILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
DEFAULT_PROFILE = "default"
"""The profile of an Order that names none."""
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
CliAgent = Literal["codex", "claude", "aider", "generic"]
ToolLevel = Literal["read", "write", "run"]
"""What the openai engine's tools may do: `read` (list, read), `write` (+ write, edit), `run`
(+ run_command, still under the tool policy)."""


class InvalidProfiles(ValueError):
    """The profiles file cannot be read as profiles."""


class ProfileBudget(BaseModel):
    """Budgets an Order on this profile gets where the Order sets none of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tokens: int | None = Field(default=None, ge=1)
    cost_usd: float | None = Field(default=None, gt=0)
    tool_calls: int | None = Field(default=None, ge=1)


class ModelProfile(BaseModel):
    """One profile: an engine and its settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=PROFILE_NAME_PATTERN)
    engine: str = Field(default="openai", min_length=1, max_length=100)
    description: str = ""
    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = Field(
        default=None, pattern=ENV_NAME_PATTERN, description="the variable holding the key"
    )
    sampling: dict[str, float | int] = Field(
        default_factory=dict, description="temperature, top_p, max_tokens, ..."
    )
    input_cost_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k input tokens")
    output_cost_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k output tokens")
    task_types: list[str] = Field(default_factory=list, description="empty: every task type")
    tool_level: ToolLevel = "run"
    budget: ProfileBudget = Field(default_factory=ProfileBudget)
    cli_agent: CliAgent | None = Field(default=None, description="the `cli` engine's template")
    cli_command: list[str] = Field(
        default_factory=list, description="`generic` template: argv with {prompt}, {model}"
    )
    cli_timeout_s: float | None = Field(default=None, gt=0, le=86_400)

    def takes(self, task_type: str | None) -> bool:
        """Whether an Order of `task_type` may run on this profile."""
        return not self.task_types or task_type is None or task_type in self.task_types

    def public(self) -> dict[str, Any]:
        """The profile as it may be shown: credentials in a base URL are masked."""
        shown = self.model_dump(mode="json")
        shown["base_url"] = _masked_url(self.base_url)
        return shown


def parse_profiles(text: str, *, source: str = "profiles.toml") -> dict[str, ModelProfile]:
    """The profiles of a TOML text: one `[profiles.<name>]` table each."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidProfiles(f"invalid {source}: {error}") from None
    tables = document.get("profiles", {})
    if not isinstance(tables, dict):
        raise InvalidProfiles(f"invalid {source}: `profiles` must be tables")
    return {name: _profile(name, table, source) for name, table in tables.items()}


def load_profiles(path: Path) -> dict[str, ModelProfile]:
    """The profiles of a file; none when it does not exist."""
    if not path.is_file():
        return {}
    return parse_profiles(path.read_text(encoding="utf-8"), source=str(path))


def with_overrides(profile: ModelProfile, overrides: dict[str, Any]) -> ModelProfile:
    """`profile` with the fields a theater's `[profiles.<name>]` table sets replaced."""
    return _profile(
        profile.name, {**profile.model_dump(exclude_unset=True), **overrides}, ".ironclaw.toml"
    )


def _profile(name: str, table: object, source: str) -> ModelProfile:
    if not isinstance(table, dict):
        raise InvalidProfiles(f"invalid {source}: profiles.{name} must be a table")
    try:
        return ModelProfile.model_validate({**table, "name": name})
    except ValidationError as error:
        problems = "; ".join(
            f"profiles.{name}.{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise InvalidProfiles(f"invalid {source}: {problems}") from None


def _masked_url(url: str | None) -> str | None:
    if not url:
        return url
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
