"""Worktree operations on one theater from many processes at once stay serialised and consistent."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from ironclaw.contracts.api import WorktreeRequest
from ironclaw.contracts.kit.git import git
from ironclaw.vault.domain.layout import VaultLayout
from ironclaw.vault.domain.theaters import Theater
from ironclaw.vault.domain.worktrees import WorktreeOutcome, create_worktree

NewRequest = Callable[..., WorktreeRequest]
PROCESSES = 4
ORDERS = 16
DEADLINE_S = 120


def test_worktrees_created_by_several_processes_at_once_are_all_there_and_consistent(
    vault: TestClient, home: Path, new_request: NewRequest
) -> None:
    ensured = vault.post("/theaters/default/ensure").json()
    repository = Path(ensured["path"])
    theater = Theater(name="default", mainline="main", repository=repository)
    requests = [new_request() for _ in range(ORDERS)]
    # Every order asked for twice, so processes also race to create the very same worktree.
    calls = [(VaultLayout.under(home), theater, r) for r in requests for _ in range(2)]

    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        pending = pool.starmap_async(create_worktree, calls, chunksize=1)
        outcomes: list[WorktreeOutcome] = pending.get(timeout=DEADLINE_S)

    created = Counter(o.view.order_id for o in outcomes if o.created)
    assert created == Counter({r.order_id: 1 for r in requests})
    for first, second in zip(outcomes[::2], outcomes[1::2], strict=True):
        assert first.view == second.view
    listed = git_worktree_list(repository)
    assert set(listed) == {Path(o.view.path) for o in outcomes}
    for outcome in outcomes:
        path = Path(outcome.view.path)
        assert listed[path] == f"refs/heads/{outcome.view.branch}"
        assert git(path, "rev-parse", "HEAD") == ensured["head"] == outcome.view.base_commit
        assert (path / ".ironclaw" / "task.md").is_file()
        assert git(path, "status", "--porcelain") == ""
    assert git(repository, "worktree", "prune", "--dry-run", "--verbose") == ""
    git(repository, "fsck", "--no-progress")


def git_worktree_list(repository: Path) -> dict[Path, str]:
    """Each linked worktree's path and branch, as `git worktree list --porcelain` reports them."""
    listing = git(repository, "worktree", "list", "--porcelain")
    blocks = [
        dict(line.partition(" ")[::2] for line in b.splitlines()) for b in listing.split("\n\n")
    ]
    return {Path(b["worktree"]): b.get("branch", "") for b in blocks if "bare" not in b}
