"""Artifacts: raw bytes in, an id out, the same bytes back; a size limit; hostile ids refused."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.api import ArtifactView
from ironclaw.contracts.ids import new_id
from ironclaw.vault.app import create_app
from ironclaw.vault.config import MAX_ARTIFACT_BYTES, Settings


@pytest.fixture
def small_vault(settings: Settings) -> Iterator[TestClient]:
    """A vault whose artifacts may hold at most 1,000 bytes."""
    limited = settings.model_copy(update={"max_artifact_bytes": 1000})
    with TestClient(create_app(limited)) as client:
        yield client


def chunks(total: int, size: int = 100) -> Iterator[bytes]:
    """`total` bytes in pieces, sent without a Content-Length (chunked)."""
    while total > 0:
        yield b"x" * min(size, total)
        total -= size


def leftovers(home: Path) -> list[str]:
    folder = home / "artifacts"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_artifact_comes_back_byte_for_byte(vault: TestClient, home: Path) -> None:
    content = bytes(range(256)) * 40

    response = vault.post("/artifacts", params={"name": "gate output.log"}, content=content)

    assert response.status_code == 201, response.text
    view = ArtifactView.model_validate(response.json())
    assert view.artifact_id.startswith("art_")
    assert view.name == "gate output.log"
    assert view.size == len(content)
    assert view.sha256 == hashlib.sha256(content).hexdigest()
    assert view.path == str(home.resolve() / "artifacts" / view.artifact_id)
    assert Path(view.path).read_bytes() == content
    read = vault.get(f"/artifacts/{view.artifact_id}")
    assert read.status_code == 200
    assert read.content == content
    assert read.headers["content-type"] == "application/octet-stream"
    assert "gate%20output.log" in read.headers["content-disposition"]


def test_an_empty_artifact_is_an_artifact(vault: TestClient) -> None:
    response = vault.post("/artifacts", params={"name": "empty"}, content=b"")

    assert response.status_code == 201
    assert response.json()["size"] == 0
    assert vault.get(f"/artifacts/{response.json()['artifact_id']}").content == b""


def test_an_artifact_at_the_limit_is_kept_and_one_byte_more_is_refused(
    small_vault: TestClient, home: Path
) -> None:
    at_limit = small_vault.post("/artifacts", params={"name": "a"}, content=chunks(1000))
    kept = leftovers(home)

    over = small_vault.post("/artifacts", params={"name": "b"}, content=chunks(1001))

    assert at_limit.status_code == 201
    assert at_limit.json()["size"] == 1000
    assert over.status_code == 413
    assert over.headers["content-type"].startswith("application/problem+json")
    assert leftovers(home) == kept


def test_the_default_limit_is_50_mib(vault: TestClient, home: Path) -> None:
    response = vault.post(
        "/artifacts", params={"name": "huge"}, content=b"\0" * (MAX_ARTIFACT_BYTES + 1)
    )

    assert MAX_ARTIFACT_BYTES == 50 * 1024 * 1024
    assert response.status_code == 413
    assert leftovers(home) == []


def test_an_unknown_artifact_is_404(vault: TestClient) -> None:
    assert vault.get(f"/artifacts/{new_id('art')}").status_code == 404


@pytest.mark.parametrize(
    "artifact_id", ["..", "art_x", "..%2F..%2Fetc%2Fpasswd", "ord_" + "0" * 26]
)
def test_malformed_artifact_ids_are_refused(vault: TestClient, artifact_id: str) -> None:
    response = vault.get(f"/artifacts/{artifact_id}")

    assert response.status_code in (404, 422)
    assert b"root:" not in response.content


@pytest.mark.parametrize("name", ["", "line\nbreak", "x" * 256])
def test_a_bad_artifact_name_is_refused(vault: TestClient, home: Path, name: str) -> None:
    response = vault.post("/artifacts", params={"name": name}, content=b"data")

    assert response.status_code == 422
    assert leftovers(home) == []
