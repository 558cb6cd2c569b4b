"""Theaters through the gateway: read from the ledger, registered through the vault."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.kit.git import git


def test_list_and_get_theaters(gateway: TestClient, script: Any, theater: str) -> None:
    listed = gateway.get("/theaters")
    one = gateway.get(f"/theaters/{theater}")

    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()] == [theater]
    assert one.status_code == 200
    assert one.json() == {
        "name": theater,
        "source": f"/srv/{theater}",
        "mainline": "main",
        "head": None,
        "path": f"/data/theaters/{theater}",
        "dispatch_paused": None,
    }


def test_an_unknown_theater_is_404(gateway: TestClient) -> None:
    response = gateway.get("/theaters/nowhere")

    assert response.status_code == 404
    assert response.json()["detail"] == "theater 'nowhere' is not registered"


def test_registering_with_the_vault_down_is_503_naming_it(gateway: TestClient) -> None:
    response = gateway.post("/theaters", json={"name": "app", "source": "/tmp/app"})

    assert response.status_code == 503
    assert response.json()["detail"].startswith("the vault at http://127.0.0.1:")


def test_a_bad_theater_body_is_422(gateway: TestClient) -> None:
    for body in (
        {"name": "Bad Name", "source": "/x"},
        {"name": "ok"},
        {"name": "ok", "source": ""},
    ):
        assert gateway.post("/theaters", json=body).status_code == 422, body


@pytest.fixture
def with_vault(gateway_for: Callable[..., TestClient], vault_url: str) -> TestClient:
    """The gateway in front of the real vault (both sharing the internal token)."""
    return gateway_for(vault_url=vault_url, internal_token="vt0k")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A local git repository to register: `main` with one commit."""
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "README.md").write_text("# project\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "--quiet", "-m", "first")
    return repo


def test_chat_creates_the_default_theater_through_the_vault(
    with_vault: TestClient, script: Any
) -> None:
    first = with_vault.post("/chat", json={"message": "hi"})
    second = with_vault.post("/chat", json={"message": "again"})
    theater = with_vault.get("/theaters/default")

    assert first.status_code == second.status_code == 202
    assert [e.data["theater"] for e in script.events("RunReceived")] == ["default", "default"]
    assert len(script.events("TheaterRegistered")) == 1
    view = theater.json()
    assert view["name"] == "default"
    assert view["mainline"] == "main"
    assert len(view["head"]) == 40
    assert Path(view["path"]).is_dir()


def test_register_a_theater_from_a_local_repository(with_vault: TestClient, project: Path) -> None:
    response = with_vault.post("/theaters", json={"name": "app", "source": str(project)})

    assert response.status_code == 201
    assert response.headers["Location"] == "/theaters/app"
    view = response.json()
    assert view["source"] == str(project)
    assert view["head"] == git(project, "rev-parse", "HEAD")
    assert with_vault.get("/theaters/app").json() == view
    assert [t["name"] for t in with_vault.get("/theaters").json()] == ["app"]
    run = with_vault.post("/chat", json={"message": "hi", "theater": "app"})
    assert run.status_code == 202


def test_registering_twice_is_409_and_a_missing_source_422(
    with_vault: TestClient, project: Path, tmp_path: Path
) -> None:
    with_vault.post("/theaters", json={"name": "app", "source": str(project)})

    again = with_vault.post("/theaters", json={"name": "app", "source": str(project)})
    missing = with_vault.post(
        "/theaters", json={"name": "other", "source": str(tmp_path / "nothing")}
    )

    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]
    assert missing.status_code == 422
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_a_vault_refusing_the_gateways_token_is_503(
    gateway_for: Callable[..., TestClient], vault_url: str
) -> None:
    gateway = gateway_for(vault_url=vault_url, internal_token="wrong")

    response = gateway.post("/theaters", json={"name": "app", "source": "/tmp/x"})

    assert response.status_code == 503
    assert "refused the gateway" in response.json()["detail"]
    assert "IRONCLAW_INTERNAL_TOKEN" in response.json()["detail"]
