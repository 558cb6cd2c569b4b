"""Model profiles: the garrison's file loads, theater overrides replace fields, nothing secret
is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from ironclaw.contracts.profiles import (
    InvalidProfiles,
    load_profiles,
    parse_profiles,
    with_overrides,
)

SHIPPED = Path(__file__).resolve().parents[2] / "garrison" / "config" / "profiles.toml"


def test_the_garrison_ships_profiles_for_a_hosted_model_ollama_and_each_cli_agent() -> None:
    profiles = load_profiles(SHIPPED)
    assert profiles["io-intelligence"].engine == "openai"
    assert profiles["io-intelligence"].api_key_env == "IOINTELLIGENCE_API_KEY"
    assert profiles["ollama-local"].base_url == "http://127.0.0.1:11434/v1"
    agents = {p.cli_agent for p in profiles.values() if p.engine == "cli"}
    assert agents == {"codex", "claude", "aider", "generic"}
    assert "default" not in profiles  # without one, the worker's IRONCLAW_LLM_* apply


def test_a_theater_override_replaces_only_the_fields_it_sets() -> None:
    (profile,) = parse_profiles(
        '[profiles.fast]\nmodel = "a"\ninput_cost_per_1k = 0.5\n'
        "[profiles.fast.budget]\ntokens = 9\n"
    ).values()
    changed = with_overrides(profile, {"model": "b", "tool_level": "read"})
    assert (changed.model, changed.tool_level) == ("b", "read")
    assert (changed.input_cost_per_1k, changed.budget.tokens) == (0.5, 9)
    assert changed.model_fields_set >= {"model", "tool_level", "input_cost_per_1k"}
    assert "output_cost_per_1k" not in changed.model_fields_set


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[profiles.x]\napi_key = 'sk-123'\n", "profiles.x.api_key: Extra inputs"),
        ("[profiles.x]\ntool_level = 'root'\n", "profiles.x.tool_level"),
        ("[profiles.x]\napi_key_env = 'sk-not a name'\n", "profiles.x.api_key_env"),
        ("profiles = 3\n", "`profiles` must be tables"),
        ("[profiles\n", "invalid profiles.toml"),
    ],
)
def test_invalid_profiles_are_refused_saying_where(text: str, problem: str) -> None:
    with pytest.raises(InvalidProfiles, match=problem):
        parse_profiles(text)


def test_a_profile_as_shown_masks_credentials_in_its_url_and_never_holds_a_key() -> None:
    (profile,) = parse_profiles(
        '[profiles.p]\nbase_url = "https://user:pw@models.example:8443/v1"\napi_key_env = "K"\n'
    ).values()
    shown = profile.public()
    assert shown["base_url"] == "https://***@models.example:8443/v1"
    assert shown["api_key_env"] == "K"
    assert load_profiles(Path("/nonexistent/profiles.toml")) == {}
