"""Worktrees: one per attempt, on branch `ironclaw/<order_id>/<attempt>`, holding the order files.

Every change happens under the theater's lock (an `flock` inside its repository), so vaults,
workers and integrators in any number of processes never race on one repository. Asking again
for an attempt's worktree returns the one already there; a worktree half made by a process that
died is repaired or replaced.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ironclaw.contracts.api import WorktreeRequest, WorktreeView
from ironclaw.contracts.kit.errors import NotFound, Unprocessable
from ironclaw.contracts.kit.git import theater_lock
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.vault.adapters.repository import BareRepository
from ironclaw.vault.domain.errors import git_failures_reported
from ironclaw.vault.domain.layout import (
    THEATER_NAME,
    VaultLayout,
    attempt_branch,
    checked_attempt,
    checked_order_id,
    checked_run_id,
)
from ironclaw.vault.domain.theaters import Theater

ORDER_DIR = ".ironclaw"
TASK_FILE = "task.md"
STATE_FILE = "state.json"
# Kept in git's admin folder of the worktree, out of reach of the agent working in it.
BASE_RECORD = "ironclaw-base"

log = get_logger(__name__)


@dataclass(frozen=True)
class WorktreeOutcome:
    """The worktree of an attempt, and whether this call made it (False: it was there)."""

    view: WorktreeView
    created: bool


def create_worktree(
    layout: VaultLayout, theater: Theater, request: WorktreeRequest
) -> WorktreeOutcome:
    """The attempt's worktree from the mainline (or `start_from`), with `.ironclaw/` written."""
    order_id = checked_order_id(request.order_id)
    checked_run_id(request.run_id)
    attempt = checked_attempt(request.attempt)
    path = layout.worktree(theater.name, order_id, attempt)
    branch = attempt_branch(order_id, attempt)
    repository = BareRepository(theater.repository)
    with (
        bound_context(order_id=order_id, attempt=attempt),
        git_failures_reported(),
        theater_lock(repository.path),
    ):
        linked = repository.worktree_at(path)
        if linked is not None and linked.branch == branch and path.is_dir():
            base = _recorded_base(path)
            if base is None:  # its maker died before recording it
                base = _merge_base(repository, branch, theater.mainline) or linked.head or ""
                _record_base(path, base)
            _write_order_files(path, request, overwrite=False)
            log.info("vault.worktree.reused", theater=theater.name, path=str(path))
            return WorktreeOutcome(_view(theater, request, path, branch, base), created=False)
        start = _start_commit(repository, theater, request)
        _clear_leftovers(repository, path, registered=linked is not None)
        path.parent.mkdir(parents=True, exist_ok=True)
        if repository.branch_head(branch) is not None:
            # The branch outlived its worktree (archived, or its maker died): keep its commits.
            repository.attach_worktree(path, branch)
            start = _attached_base(repository, branch, theater.mainline, start)
        else:
            repository.add_worktree(path, branch, start)
        _record_base(path, start)
        _write_order_files(path, request, overwrite=True)
        log.info("vault.worktree.created", theater=theater.name, path=str(path), base=start)
        return WorktreeOutcome(_view(theater, request, path, branch, start), created=True)


def remove_worktree(layout: VaultLayout, order_id: str, attempt: int, *, archive: bool) -> None:
    """Remove the attempt's worktree; keep its branch when archiving, else delete it (404)."""
    checked_order_id(order_id)
    checked_attempt(attempt)
    branch = attempt_branch(order_id, attempt)
    for theater in _theaters_with_worktrees(layout):
        path = layout.worktree(theater, order_id, attempt)
        repository = BareRepository(layout.theater(theater))
        if not repository.exists():
            continue
        with (
            bound_context(order_id=order_id, attempt=attempt),
            git_failures_reported(),
            theater_lock(repository.path),
        ):
            if repository.worktree_at(path) is None and not path.exists():
                continue
            repository.remove_worktree(path)
            if not archive:
                repository.delete_branch(branch)
            log.info("vault.worktree.removed", theater=theater, archived=archive)
            return
    raise NotFound(f"no worktree for order {order_id} attempt {attempt}")


def _start_commit(repository: BareRepository, theater: Theater, request: WorktreeRequest) -> str:
    """The commit a new worktree starts from: `start_from` if given, else the mainline's head."""
    if request.start_from is not None:
        commit = repository.commit_of(request.start_from)
        if commit is None:
            raise Unprocessable(
                f"start_from {request.start_from!r} names no commit in theater {theater.name!r}",
                field="start_from",
            )
        return commit
    head = repository.branch_head(theater.mainline)
    if head is None:
        raise Unprocessable(f"theater {theater.name!r} has no mainline {theater.mainline!r}")
    return head


def _clear_leftovers(repository: BareRepository, path: Path, *, registered: bool) -> None:
    """Remove what a broken earlier try left at `path` (a stray folder or a stale registration)."""
    if registered:
        repository.remove_worktree(path)
    elif path.exists():
        shutil.rmtree(path)
    repository.prune_worktrees()


def _attached_base(repository: BareRepository, branch: str, mainline: str, start: str) -> str:
    """Where a kept branch started: `start` if it lies on the branch, else its fork point."""
    if repository.is_ancestor(start, f"refs/heads/{branch}"):
        return start
    return _merge_base(repository, branch, mainline) or start


def _merge_base(repository: BareRepository, branch: str, mainline: str) -> str | None:
    found = repository.git(
        "merge-base", f"refs/heads/{branch}", f"refs/heads/{mainline}", check=False
    )
    return found or None


def _view(
    theater: Theater, request: WorktreeRequest, path: Path, branch: str, base: str
) -> WorktreeView:
    return WorktreeView(
        theater=theater.name,
        order_id=request.order_id,
        attempt=request.attempt,
        path=str(path),
        branch=branch,
        base_commit=base,
        repository=str(theater.repository),
    )


def _write_order_files(path: Path, request: WorktreeRequest, *, overwrite: bool) -> None:
    """`.ironclaw/task.md` and `.ironclaw/state.json`; kept as they are unless `overwrite`."""
    folder = path / ORDER_DIR
    folder.mkdir(exist_ok=True)
    contents = {
        TASK_FILE: request.task_md,
        STATE_FILE: json.dumps(request.state, indent=2, sort_keys=True) + "\n",
    }
    for name, text in contents.items():
        target = folder / name
        if overwrite or not target.exists():
            target.write_text(text, encoding="utf-8")


def _admin_dir(path: Path) -> Path:
    """Git's admin folder of the worktree at `path`, named by its `.git` file."""
    pointer = (path / ".git").read_text().strip()
    return Path(pointer.removeprefix("gitdir:").strip())


def _record_base(path: Path, commit: str) -> None:
    (_admin_dir(path) / BASE_RECORD).write_text(commit + "\n")


def _recorded_base(path: Path) -> str | None:
    try:
        return (_admin_dir(path) / BASE_RECORD).read_text().strip() or None
    except OSError:
        return None


def _theaters_with_worktrees(layout: VaultLayout) -> list[str]:
    if not layout.worktrees.is_dir():
        return []
    return sorted(p.name for p in layout.worktrees.iterdir() if THEATER_NAME.fullmatch(p.name))
