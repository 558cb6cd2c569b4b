"""Saving a worktree's whole state (commits, staged, unstaged, untracked) to a rescue ref.

The commit is built from a temporary index, so the worktree's own index, branch and files are
left exactly as they were: a unit still running in it would not notice.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ironclaw.contracts.kit.git import git, theater_lock


@dataclass(frozen=True)
class Rescue:
    """Where an attempt's work was saved: the ref, the commit it points at, whether it moved."""

    ref: str
    commit: str
    moved: bool = True


def rescue_ref(order_id: str, attempt: int) -> str:
    """The ref holding an attempt's rescued work."""
    return f"refs/ironclaw/rescue/{order_id}/{attempt}"


def save_rescue(repository: Path, worktree: Path, order_id: str, attempt: int) -> Rescue:
    """Commit the worktree's full state on top of its HEAD and point the rescue ref at it.

    A worktree without changes records its HEAD commit; a ref already holding exactly this work
    is left where it is (`moved` False), so saving twice makes no second commit. Raises `GitError`
    when the folder is no usable worktree: then nothing is saved, and nothing may be removed.
    """
    ref = rescue_ref(order_id, attempt)
    with theater_lock(repository):
        head = git(worktree, "rev-parse", "--verify", "HEAD^{commit}")
        tree = _tree_of_everything(worktree)
        saved = git(
            repository, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False
        )
        if saved and _holds(repository, saved, head, tree):
            return Rescue(ref=ref, commit=saved, moved=False)
        commit = head
        if tree != git(worktree, "rev-parse", f"{head}^{{tree}}"):
            message = f"ironclaw rescue of {order_id} attempt {attempt}"
            commit = git(worktree, "commit-tree", tree, "-p", head, "-m", message)
        git(repository, "update-ref", ref, commit)
    return Rescue(ref=ref, commit=commit)


def _holds(repository: Path, saved: str, head: str, tree: str) -> bool:
    """Whether the rescue commit `saved` is this very work: `tree` on top of `head`."""
    if saved == head:
        return git(repository, "rev-parse", f"{head}^{{tree}}") == tree
    parents = git(repository, "rev-list", "--parents", "-n", "1", saved).split()[1:]
    return parents == [head] and git(repository, "rev-parse", f"{saved}^{{tree}}") == tree


def _tree_of_everything(worktree: Path) -> str:
    """The tree of every tracked and untracked (not ignored) file, through a temporary index."""
    with tempfile.TemporaryDirectory(prefix="ironclaw-rescue-") as scratch:
        env = {"GIT_INDEX_FILE": os.path.join(scratch, "index")}
        git(worktree, "read-tree", "HEAD", env=env)
        git(worktree, "add", "--all", "--", ".", env=env)
        return git(worktree, "write-tree", env=env)
