"""Orphaned worktrees: their order settled or their attempt superseded; rescued, then removed.

The no-loss rule: the work of an attempt that did not reach the mainline is saved to its rescue
ref and recorded (`RescueSaved`) before its worktree is removed; if either step fails, the
worktree stays for the next cycle.
"""

from __future__ import annotations

from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import LedgerError, LedgerNotFound
from ironclaw.contracts.clients.vault import VaultError
from ironclaw.contracts.kit.git import GitError
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.models import ORDER_SETTLED, AttemptStatus
from ironclaw.observer.adapters.disk import WorktreeFolder, worktree_folders
from ironclaw.observer.domain.cycle import Cycle
from ironclaw.observer.domain.rescues import save_attempt_work

NOT_FOUND = 404

log = get_logger(__name__)


def clear_orphaned_worktrees(cycle: Cycle) -> None:
    """Rescue and remove every worktree of the theater that no live attempt owns."""
    folders = worktree_folders(cycle.worktrees)
    cycle.saw["worktrees"] = len(folders)
    for folder in folders:
        with bound_context(order_id=folder.order_id, attempt=folder.attempt):
            try:
                order = cycle.ledger.get_order(folder.order_id)
            except LedgerNotFound:
                log.warning("observer.worktree.unknown_order", path=str(folder.path))
                continue  # not ours to judge: never remove what the ledger does not know
            if not _orphaned(order, folder):
                continue
            cycle.saw["orphaned"] += 1
            _rescue_and_remove(cycle, order, folder)


def _orphaned(order: OrderView, folder: WorktreeFolder) -> bool:
    # A folder of a newer attempt than the order shows is never orphaned: the read raced it.
    return order.status in ORDER_SETTLED or folder.attempt < order.attempt


def _needs_rescue(order: OrderView, folder: WorktreeFolder) -> bool:
    """Whether the attempt's work might exist nowhere else: everything but a merged attempt."""
    attempt = next((a for a in order.attempts if a.attempt == folder.attempt), None)
    return attempt is None or attempt.status != AttemptStatus.INTEGRATED


def _rescue_and_remove(cycle: Cycle, order: OrderView, folder: WorktreeFolder) -> None:
    if _needs_rescue(order, folder):
        try:
            saved = save_attempt_work(cycle, order, folder.attempt, folder.path)
            if saved is not None:
                cycle.ledger.append(folder.order_id, [saved], expected_version=None)
        except (GitError, LedgerError) as error:
            log.error("observer.rescue.failed", path=str(folder.path), error=str(error))
            return
        if saved is not None:
            cycle.rescued(saved)
    try:
        cycle.vault.remove_worktree(folder.order_id, folder.attempt, archive=True)
    except VaultError as error:
        if error.status != NOT_FOUND:
            log.error("observer.worktree.remove_failed", error=str(error))
            return
    log.info("observer.worktree.removed", path=str(folder.path))
    cycle.did.append(f"removed_worktree:{folder.order_id}:{folder.attempt}")
