"""What promotion needs from the vault, as protocols: the vault client in production."""

from __future__ import annotations

from typing import Protocol


class ArtifactStore(Protocol):
    """Keeps a failed gate's full output where operators can read it."""

    def store_artifact(self, name: str, content: bytes) -> str:
        """Store `content` under `name`; returns the artifact's id."""
        ...


class WorktreeJanitor(Protocol):
    """Removes an attempt's worktree once its integration is settled."""

    def remove_worktree(self, order_id: str, attempt: int) -> None:
        """Remove the worktree of `attempt` of `order_id`, archiving its branch."""
        ...
