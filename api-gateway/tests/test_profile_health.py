"""An operator enables a profile the duty officer disabled, on a real ledger."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient


def disable(ledger: LedgerClient, profile: str) -> None:
    """The duty officer's `ProfileDisabled`, as it appends it."""
    disabled = ev.ProfileDisabled(
        profile=profile, reason="5 failures in a row (last: tests failed)", consecutive_failures=5
    )
    ledger.append(ev.profile_stream(profile), [disabled], expected_version=0)


def test_enabling_a_disabled_profile_resets_it_and_a_repeat_changes_nothing(
    gateway: TestClient, ledger_client: LedgerClient, script: Any
) -> None:
    disable(ledger_client, "fast")
    before = gateway.get("/profiles/fast/health")
    assert before.status_code == 200
    assert before.json()["disabled"] is True
    assert before.json()["disabled_reason"] == "5 failures in a row (last: tests failed)"

    first = gateway.post("/profiles/fast/enable")
    again = gateway.post("/profiles/fast/enable")

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    body = first.json()
    assert (body["name"], body["disabled"], body["disabled_reason"]) == ("fast", False, None)
    assert body["consecutive_failures"] == 0
    (enabled,) = script.events("ProfileEnabled")
    assert enabled.stream_id == "profile-fast"
    assert enabled.data["operator"].startswith("ip:")
    assert ledger_client.get_profile("fast").disabled is False


def test_the_operator_is_the_callers_key_fingerprint(
    gateway_for: Any, ledger_client: LedgerClient, script: Any
) -> None:
    gateway = gateway_for(api_keys="ops-key-1")
    disable(ledger_client, "fast")
    headers = {"Authorization": "Bearer ops-key-1"}

    assert gateway.post("/profiles/fast/enable").status_code == 401
    assert gateway.post("/profiles/fast/enable", headers=headers).status_code == 200

    (enabled,) = script.events("ProfileEnabled")
    assert enabled.data["operator"].startswith("key:")
    assert "ops-key-1" not in enabled.data["operator"]


def test_a_profile_never_seen_is_404_and_nothing_is_written(
    gateway: TestClient, script: Any
) -> None:
    count = len(script.events())

    response = gateway.post("/profiles/never-used/enable")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert (
        response.json()["detail"] == "profile 'never-used' is unknown: no order has settled on it"
    )
    assert gateway.get("/profiles/never-used/health").status_code == 404
    assert len(script.events()) == count


def test_a_malformed_profile_name_is_422(gateway: TestClient) -> None:
    assert gateway.post("/profiles/-bad name/enable").status_code == 422


def test_with_an_idempotency_key_the_first_answer_is_replayed(
    gateway: TestClient, ledger_client: LedgerClient, script: Any
) -> None:
    disable(ledger_client, "fast")
    headers = {"Idempotency-Key": "enable-fast-once"}

    first = gateway.post("/profiles/fast/enable", headers=headers)
    replayed = gateway.post("/profiles/fast/enable", headers=headers)

    assert first.status_code == replayed.status_code == 200
    assert replayed.json() == first.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert len(script.events("ProfileEnabled")) == 1
