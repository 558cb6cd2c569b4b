"""Worktrees from vault: the production `WorktreeProvider`."""

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
