"""A typed client for the vault's HTTP API (theaters, worktrees, artifacts)."""

from __future__ import annotations

from typing import Any

from ironclaw.contracts.api import (
    ArtifactView,
    TheaterCreate,
    TheaterView,
    WorktreeRequest,
    WorktreeView,
)
from ironclaw.contracts.clients.http import ServiceClient, detail_of


class VaultError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"vault answered {status}: {detail}")
        self.status = status
        self.detail = detail


class VaultClient(ServiceClient):
    """The vault's API; every error answer is a `VaultError` with its status."""

    def __init__(self, base_url: str, *, timeout_s: float = 60.0, **options: Any) -> None:
        super().__init__(base_url, timeout_s=timeout_s, **options)

    def register_theater(self, theater: TheaterCreate) -> TheaterView:
        return self._call("POST", "/theaters", TheaterView, json=theater.model_dump(mode="json"))

    def ensure_default_theater(self) -> TheaterView:
        """The `default` theater, created (an empty repository, one commit) on first use."""
        return self._call("POST", "/theaters/default/ensure", TheaterView)

    def get_theater(self, name: str) -> TheaterView:
        return self._call("GET", f"/theaters/{name}", TheaterView)

    def list_theaters(self) -> list[TheaterView]:
        response = self._send("GET", "/theaters")
        return [TheaterView.model_validate(item) for item in response.json()]

    def create_worktree(self, request: WorktreeRequest) -> WorktreeView:
        """Idempotent: the same order and attempt get the same worktree."""
        return self._call("POST", "/worktrees", WorktreeView, json=request.model_dump(mode="json"))

    def remove_worktree(self, order_id: str, attempt: int, *, archive: bool = True) -> None:
        self._send("DELETE", f"/worktrees/{order_id}/{attempt}", params={"archive": archive})

    def store_artifact(self, name: str, content: bytes) -> ArtifactView:
        return self._call(
            "POST", "/artifacts", ArtifactView, params={"name": name}, content=content
        )

    def read_artifact(self, artifact_id: str) -> bytes:
        return self._send("GET", f"/artifacts/{artifact_id}").content

    def _raise_for(self, status: int, body: Any) -> None:
        raise VaultError(status, detail_of(body))
