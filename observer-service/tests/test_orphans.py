"""Orphaned worktrees: rescued (committed, staged, unstaged and untracked work) before removal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.events import (
    Integrated,
    IntegrationStarted,
    OrderCancelled,
    RescueSaved,
)
from ironclaw.contracts.kit.git import git
from ironclaw.observer.domain.patrol import Observer

if TYPE_CHECKING:
    from conftest import Fleet


class WatchedVault(VaultClient):
    """The real vault client, noting what the ledger and the disk held at each removal."""

    def __init__(self, url: str, ledger: LedgerClient, **options: Any) -> None:
        super().__init__(url, **options)
        self.ledger = ledger
        self.removals: list[tuple[str, list[str], bool]] = []

    def remove_worktree(self, order_id: str, attempt: int, *, archive: bool = True) -> None:
        types = [e.type for e in self.ledger.read_stream(order_id).events]
        self.removals.append((order_id, types, archive))
        super().remove_worktree(order_id, attempt, archive=archive)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def rescued(fleet: Fleet, order_id: str) -> list[RescueSaved]:
    events = fleet.ledger.read_stream(order_id).events
    return [RescueSaved.model_validate(e.data) for e in events if e.type == "RescueSaved"]


def test_a_superseded_attempt_is_rescued_whole_and_recorded_before_its_worktree_goes(
    fleet: Fleet, vault_url: str, theater_repository: Path
) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    write(worktree / "committed.py", "committed = True\n")
    git(worktree, "add", "committed.py")
    git(worktree, "commit", "--quiet", "-m", "unit's commit")
    unit_commit = git(worktree, "rev-parse", "HEAD")
    write(worktree / "README.md", "# project, edited but not committed\n")
    write(worktree / "staged.py", "staged = True\n")
    git(worktree, "add", "staged.py")
    write(worktree / "new" / "untracked.py", "untracked = True\n")
    fleet.issue(run_id, order_id, 2)  # the duty officer reissued: attempt 1 is superseded
    watched = WatchedVault(vault_url, fleet.ledger, retry_for_s=5)
    observer = Observer(ledger=fleet.ledger, vault=watched, home=fleet.home, holder="test:1")

    cycle = observer.patrol_theater(fleet.ledger.get_theater("project"))

    (saved,) = rescued(fleet, order_id)
    ref = f"refs/ironclaw/rescue/{order_id}/1"
    assert saved.ref == ref
    assert saved.attempt == 1
    assert git(theater_repository, "rev-parse", ref) == saved.commit
    assert git(theater_repository, "rev-parse", f"{ref}^") == unit_commit

    def show(name: str) -> str:
        return git(theater_repository, "show", f"{ref}:{name}") + "\n"

    assert show("committed.py") == "committed = True\n"
    assert show("README.md") == "# project, edited but not committed\n"
    assert show("staged.py") == "staged = True\n"
    assert show("new/untracked.py") == "untracked = True\n"
    assert ".ironclaw" not in git(theater_repository, "ls-tree", "--name-only", ref)
    ((removed_order, stored_then, archived),) = watched.removals
    assert removed_order == order_id
    assert archived
    assert stored_then[-1] == "RescueSaved"  # stored before the removal was asked for
    assert not worktree.exists()
    assert git(theater_repository, "branch", "--list", f"ironclaw/{order_id}/1") != ""
    assert cycle.saw["orphaned"] == 1
    assert cycle.did == [
        f"rescued:{order_id}:1:{saved.commit}",
        f"removed_worktree:{order_id}:1",
    ]
    assert fleet.order(order_id).attempts[0].rescue_ref == ref


def test_a_rescue_without_changes_records_the_head_commit(
    fleet: Fleet, theater_repository: Path
) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = fleet.start(run_id, order_id, 1)
    fleet.ledger.append(
        order_id,
        [OrderCancelled(order_id=order_id, run_id=run_id)],
        expected_version=None,
    )

    fleet.patrol()

    (saved,) = rescued(fleet, order_id)
    assert saved.commit == worktree.base_commit
    assert not Path(worktree.path).exists()


def test_live_attempts_keep_their_worktrees_and_unknown_folders_are_left_alone(
    fleet: Fleet, home: Path
) -> None:
    run_id, order_id = fleet.planned_order()
    live = Path(fleet.start(run_id, order_id, 1).path)
    stranger = home / "worktrees" / "project" / "ord_0000000000000000000000000a-1"
    stranger.mkdir()

    cycle = fleet.patrol()

    assert live.is_dir()
    assert stranger.is_dir()
    assert cycle.saw["worktrees"] == 2
    assert cycle.saw["orphaned"] == 0
    assert rescued(fleet, order_id) == []


def test_an_integrated_attempts_worktree_is_removed_without_a_rescue(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = fleet.start(run_id, order_id, 1)
    fleet.complete(run_id, order_id, 1, [])
    fleet.ledger.append(
        order_id,
        [
            IntegrationStarted(order_id=order_id, run_id=run_id, attempt=1),
            Integrated(
                order_id=order_id,
                run_id=run_id,
                attempt=1,
                theater="project",
                merged_commit=worktree.base_commit,
            ),
        ],
        expected_version=None,
    )

    cycle = fleet.patrol()

    assert rescued(fleet, order_id) == []  # its work is on the mainline
    assert not Path(worktree.path).exists()
    assert cycle.did == [f"removed_worktree:{order_id}:1"]


def test_an_orphan_that_cannot_be_rescued_is_never_removed(fleet: Fleet) -> None:
    run_id, order_id = fleet.planned_order()
    worktree = Path(fleet.start(run_id, order_id, 1).path)
    (worktree / "work.py").write_text("precious = True\n")
    (worktree / ".git").write_text("gitdir: /nowhere\n")  # its git link is broken
    fleet.issue(run_id, order_id, 2)

    cycle = fleet.patrol()

    assert (worktree / "work.py").read_text() == "precious = True\n"
    assert rescued(fleet, order_id) == []
    assert cycle.saw["orphaned"] == 1
    assert cycle.did == []
