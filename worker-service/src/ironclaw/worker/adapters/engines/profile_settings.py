"""A model profile applied to the worker's settings: the engine then runs as the profile says.

Only the fields a profile sets replace the worker's (`IRONCLAW_LLM_*`, ...); its API key is read
from the variable it names (or the file `<NAME>_FILE` points at), never from the profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import SecretStr

from ironclaw.contracts.kit.secrets import env_secret
from ironclaw.contracts.profiles import ModelProfile
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import EngineUnavailable

FIELD_SETTINGS = {
    "base_url": "llm_base_url",
    "model": "llm_model",
    "sampling": "llm_sampling",
    "input_cost_per_1k": "llm_input_cost_per_1k",
    "output_cost_per_1k": "llm_output_cost_per_1k",
    "tool_level": "tool_level",
    "cli_agent": "cli_agent",
    "cli_command": "cli_command",
    "cli_timeout_s": "cli_timeout_s",
}


def settings_for_profile(
    settings: Settings, profile: ModelProfile, environment: Mapping[str, str]
) -> Settings:
    """`settings` as `profile` changes them; `EngineUnavailable` when its key is missing."""
    chosen = profile.model_dump(exclude_unset=True)
    update: dict[str, Any] = {
        setting: chosen[field] for field, setting in FIELD_SETTINGS.items() if field in chosen
    }
    if "model" in chosen:
        update["cli_model"] = chosen["model"]
    if profile.api_key_env:
        key = env_secret(profile.api_key_env, environment)
        if key is None:
            raise EngineUnavailable(
                f"profile {profile.name!r} reads its API key from {profile.api_key_env}, "
                f"which is not set (nor {profile.api_key_env}_FILE)"
            )
        update["llm_api_key"] = SecretStr(key)
        update["cli_passed_env"] = [profile.api_key_env]
    return settings.model_copy(update=update)


def profile_secrets(profiles: Iterable[ModelProfile], environment: Mapping[str, str]) -> list[str]:
    """The API keys the profiles name, as this environment holds them (to be redacted)."""
    keys = (env_secret(p.api_key_env, environment) for p in profiles if p.api_key_env)
    return [key for key in keys if key]
