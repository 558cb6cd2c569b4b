from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ironclaw.contracts.kit.auth import internal_token_guard
from ironclaw.contracts.kit.errors import PROBLEM_JSON, install_error_handling

TOKEN = "internal-s3cret"


def _client(token: SecretStr | None) -> TestClient:
    app = FastAPI()
    install_error_handling(app)

    @app.get("/streams/x", dependencies=[Depends(internal_token_guard(token))])
    def stream() -> dict[str, str]:
        return {"stream": "x"}

    return TestClient(app)


def test_open_when_no_token_is_configured() -> None:
    client = _client(None)

    assert client.get("/streams/x").status_code == 200
    assert client.get("/streams/x", headers={"Authorization": "Bearer anything"}).status_code == 200


def test_refused_without_a_bearer() -> None:
    response = _client(SecretStr(TOKEN)).get("/streams/x")

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert (body["status"], body["title"]) == (401, "Unauthorized")
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer wrong",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer  {TOKEN}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer",
        "Bearer ",
    ],
)
def test_refused_with_a_wrong_bearer(authorization: str) -> None:
    response = _client(SecretStr(TOKEN)).get("/streams/x", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert TOKEN not in response.text


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_passes_with_the_right_bearer(scheme: str) -> None:
    response = _client(SecretStr(TOKEN)).get(
        "/streams/x", headers={"Authorization": f"{scheme} {TOKEN}"}
    )

    assert response.status_code == 200
    assert response.json() == {"stream": "x"}
