"""The vault as integration sees it: artifact storage and worktree removal over its HTTP API."""

from __future__ import annotations

from ironclaw.contracts.clients.vault import VaultClient


class VaultAdapter:
    """`ArtifactStore` and `WorktreeJanitor` backed by the vault service."""

    def __init__(self, client: VaultClient) -> None:
        self._client = client

    def store_artifact(self, name: str, content: bytes) -> str:
        return self._client.store_artifact(name, content).artifact_id

    def remove_worktree(self, order_id: str, attempt: int) -> None:
        self._client.remove_worktree(order_id, attempt, archive=True)
