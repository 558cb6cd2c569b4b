"""Saving an unfinished attempt's work to its rescue ref, ready to be recorded as `RescueSaved`.

One path for every caller: the orphan check saves before it removes a worktree, the stall check
saves before it asks for recovery (so the reissued attempt can start from the saved work).
"""

from __future__ import annotations

from pathlib import Path

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.adapters.rescue import save_rescue
from ironclaw.observer.domain.cycle import Cycle

log = get_logger(__name__)


def save_attempt_work(
    cycle: Cycle, order: OrderView, attempt: int, worktree: Path
) -> ev.RescueSaved | None:
    """Save the worktree to the attempt's rescue ref; the `RescueSaved` that records it.

    None when the ledger already records this very save (the ref did not move and the attempt
    names it). Raises `GitError` when the folder is no usable worktree: nothing was saved.
    """
    rescue = save_rescue(cycle.repository, worktree, order.order_id, attempt)
    known = next((a.rescue_ref for a in order.attempts if a.attempt == attempt), None)
    if not rescue.moved and known == rescue.ref:
        log.info("observer.rescue.unchanged", ref=rescue.ref, commit=rescue.commit)
        return None
    return ev.RescueSaved(
        order_id=order.order_id, attempt=attempt, ref=rescue.ref, commit=rescue.commit
    )
