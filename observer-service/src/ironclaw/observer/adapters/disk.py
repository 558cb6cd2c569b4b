"""What the observer sees on the shared volume: worktree folders and how recently they changed."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

WORKTREE_LEAF = re.compile(r"^(?P<order_id>ord_[0-9a-z]{26})-(?P<attempt>[1-9][0-9]*)$")


@dataclass(frozen=True)
class WorktreeFolder:
    """One attempt's worktree folder: `worktrees/<theater>/<order_id>-<attempt>`."""

    order_id: str
    attempt: int
    path: Path


def worktree_folders(theater_worktrees: Path) -> list[WorktreeFolder]:
    """The attempt worktrees under a theater's worktree folder; other entries are ignored."""
    if not theater_worktrees.is_dir():
        return []
    found = []
    for entry in sorted(theater_worktrees.iterdir()):
        match = WORKTREE_LEAF.fullmatch(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            found.append(WorktreeFolder(match["order_id"], int(match["attempt"]), entry))
    return found


def newest_change(worktree: Path) -> float | None:
    """The newest mtime of anything in `worktree` (`.git` excluded); None when it is gone.

    Folders count too: deleting or renaming a file changes its folder's mtime.
    """
    try:
        newest = worktree.lstat().st_mtime
    except FileNotFoundError:
        return None
    for folder, subfolders, files in os.walk(worktree):
        if folder == str(worktree):
            # `.git` is git's (a folder, or a pointer file in a linked worktree), not progress.
            subfolders[:] = [name for name in subfolders if name != ".git"]
            files = [name for name in files if name != ".git"]
        for name in (*subfolders, *files):
            try:
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
            except FileNotFoundError:
                continue  # removed while we looked: its folder's mtime tells the change
    return newest
