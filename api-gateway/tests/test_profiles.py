"""`GET /profiles`: the garrison's model profiles with their health, and never a secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient

SHIPPED = Path(__file__).resolve().parents[2] / "garrison"
PROFILES = """
[profiles.hosted]
engine = "openai"
base_url = "https://user:hunter2-password@models.example/v1"
model = "big"
api_key_env = "HOSTED_MODEL_KEY"
input_cost_per_1k = 0.5
budget = { tokens = 1000 }

[profiles.agent]
engine = "cli"
cli_agent = "claude"
api_key_env = "ANTHROPIC_API_KEY"
"""


def garrison_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "garrison"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "profiles.toml").write_text(text)
    return folder


def test_profiles_are_listed_with_their_health_and_no_secret(
    gateway_for: Callable[..., TestClient],
    ledger_client: LedgerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOSTED_MODEL_KEY", "hosted-key-value-123")
    disabled = ev.ProfileDisabled(profile="agent", reason="5 failures", consecutive_failures=5)
    ledger_client.append(ev.profile_stream("agent"), [disabled], expected_version=0)
    gateway = gateway_for(garrison_dir=garrison_with(tmp_path, PROFILES))

    response = gateway.get("/profiles")

    assert response.status_code == 200
    agent, hosted = response.json()
    assert (agent["name"], hosted["name"]) == ("agent", "hosted")
    assert hosted["base_url"] == "https://***@models.example/v1"
    assert hosted["api_key_env"] == "HOSTED_MODEL_KEY"
    assert hosted["budget"]["tokens"] == 1000
    assert hosted["health"] is None
    assert agent["health"]["disabled"] is True
    assert "hunter2-password" not in response.text
    assert "hosted-key-value-123" not in response.text
    one = gateway.get("/profiles/hosted")
    assert one.json() == hosted
    assert gateway.get("/profiles/nonesuch").status_code == 404


def test_the_shipped_garrison_lists_its_example_profiles(
    gateway_for: Callable[..., TestClient],
) -> None:
    names = [p["name"] for p in gateway_for(garrison_dir=SHIPPED).get("/profiles").json()]
    assert {"io-intelligence", "ollama-local", "codex", "claude-code", "aider"} <= set(names)


def test_an_invalid_profiles_file_is_a_problem_saying_where(
    gateway_for: Callable[..., TestClient], tmp_path: Path
) -> None:
    gateway = gateway_for(garrison_dir=garrison_with(tmp_path, "[profiles.x]\nengine = 3\n"))

    response = gateway.get("/profiles")

    assert response.status_code == 500
    assert "profiles.x.engine" in response.json()["detail"]
    assert gateway.get("/profiles/x/health").status_code == 404  # the health route still works
