"""Theaters through the gateway: read from the ledger, registered through the vault."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


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
