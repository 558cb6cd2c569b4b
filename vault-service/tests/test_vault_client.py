"""The contracts' VaultClient against the vault served over real HTTP, with the internal token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openai_server import serve

from ironclaw.contracts.api import TheaterCreate, WorktreeRequest
from ironclaw.contracts.clients.vault import VaultClient, VaultError
from ironclaw.contracts.kit.git import git
from ironclaw.vault.app import create_app
from ironclaw.vault.config import Settings

NewRequest = Callable[..., WorktreeRequest]


def test_the_vault_client_drives_theaters_worktrees_and_artifacts(
    settings: Settings, source_repo: Path, new_request: NewRequest
) -> None:
    guarded = Settings(home=settings.home, ledger_url=settings.ledger_url, internal_token="tok")
    with serve(create_app(guarded)) as url:
        client = VaultClient(url, token="tok", retry_for_s=5)
        anonymous = VaultClient(url, retry_for_s=5)
        try:
            default = client.ensure_default_theater()
            project = client.register_theater(
                TheaterCreate(name="project", source=str(source_repo))
            )
            request = new_request(theater="project")
            worktree = client.create_worktree(request)
            again = client.create_worktree(request)
            client.remove_worktree(request.order_id, 1, archive=False)
            stored = client.store_artifact("notes.txt", b"notes")
            with pytest.raises(VaultError) as refused:
                anonymous.list_theaters()

            assert {t.name for t in client.list_theaters()} == {"default", "project"}
            assert client.get_theater("default") == default
            assert worktree == again
            assert worktree.base_commit == project.head
            assert not Path(worktree.path).exists()
            assert git(Path(project.path), "branch", "--list", "ironclaw/*") == ""
            assert client.read_artifact(stored.artifact_id) == b"notes"
            assert refused.value.status == 401
        finally:
            client.close()
            anonymous.close()
