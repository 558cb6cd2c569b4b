"""What integration knows of an attempt, and what promoting it came to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ironclaw.contracts.api import OrderView
from ironclaw.contracts.models import AfterActionReport, GateResult


@dataclass(frozen=True)
class AttemptUnderReview:
    """One accepted attempt of an order, as the ledger recorded it, on its way to mainline."""

    order_id: str
    run_id: str
    attempt: int
    theater: str
    worktree: Path | None
    base_commit: str | None
    commits: tuple[str, ...]
    aar: AfterActionReport | None

    @classmethod
    def of(cls, order: OrderView, attempt: int) -> AttemptUnderReview:
        """The attempt numbered `attempt` of `order` (empty when the ledger has no such one)."""
        view = next((a for a in order.attempts if a.attempt == attempt), None)
        return cls(
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=attempt,
            theater=order.theater,
            worktree=Path(view.worktree) if view and view.worktree else None,
            base_commit=view.base_commit if view else None,
            commits=tuple(view.commits) if view else (),
            aar=view.aar if view else None,
        )


@dataclass(frozen=True)
class GatePolicy:
    """How gates run: the timeout of a gate naming none, and how much output is kept where."""

    default_timeout_s: float = 600.0
    tail_chars: int = 2000
    max_output_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class Promoted:
    """The attempt is on mainline at `merged_commit`.

    `mainline_advanced` says whether the mainline's head is now `merged_commit` because of it
    (so `MainlineAdvanced` is due); an attempt with nothing to merge leaves the mainline alone.
    """

    merged_commit: str
    gates: tuple[GateResult, ...] = ()
    mainline_advanced: bool = True
    recovered: bool = False


@dataclass(frozen=True)
class Refused:
    """The attempt may not reach mainline, and why; the mainline is untouched.

    `output` is what explains the refusal (gate output, git's words, the dirty paths); when
    `failed_gate` is set the full output is kept as an artifact.
    """

    reason: str
    gates: tuple[GateResult, ...] = ()
    output: str = ""
    failed_gate: str | None = None


Outcome = Promoted | Refused
