"""Worktrees and artifacts from vault: the production `WorktreeProvider` and `ArtifactStore`."""

from __future__ import annotations

from ironclaw.contracts.api import WorktreeRequest, WorktreeView
from ironclaw.contracts.clients.vault import VaultClient


class VaultWorktrees:
    """Asks vault (`POST /worktrees`, `DELETE /worktrees/...`) for attempts' worktrees."""

    def __init__(self, vault: VaultClient) -> None:
        self._vault = vault

    def create(self, request: WorktreeRequest) -> WorktreeView:
        return self._vault.create_worktree(request)

    def remove(self, order_id: str, attempt: int) -> None:
        self._vault.remove_worktree(order_id, attempt)


class VaultArtifacts:
    """Keeps attempts' artifacts in vault (`POST /artifacts`)."""

    def __init__(self, vault: VaultClient) -> None:
        self._vault = vault

    def store_artifact(self, name: str, content: bytes) -> str:
        return self._vault.store_artifact(name, content).artifact_id
