"""Daily budgets: the duty officer pauses dispatch in theaters over them, and resumes it.

Usage is the ledger's `usage` projection: the tokens and cost of the attempts that settled on
the current UTC day, one row per theater, so a check reads today's rows and never the history.
A theater is over budget when its own daily budget is spent, or when the garrison's (every
theater together) is. The duty officer then appends `DispatchPaused` on `theater-<name>`, and
`DispatchResumed` once it is back under (a new day, a raised budget); workers refuse to claim
Orders of a paused theater.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import TheaterUsage, TheaterView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerError
from ironclaw.contracts.kit.logging import get_logger

log = get_logger()


@dataclass(frozen=True)
class Budget:
    """Limits per UTC day; None: no limit of that kind."""

    tokens_per_day: int | None = None
    cost_per_day_usd: float | None = None

    def spent(self, tokens: int, cost_usd: float) -> str | None:
        """How the budget is spent by this usage (`1200 of 1000 tokens`), or None if it is not."""
        if self.tokens_per_day is not None and tokens >= self.tokens_per_day:
            return f"{tokens} of {self.tokens_per_day} tokens"
        if self.cost_per_day_usd is not None and cost_usd >= self.cost_per_day_usd:
            return f"${cost_usd:.4f} of ${self.cost_per_day_usd:.4f}"
        return None


@dataclass(frozen=True)
class Budgets:
    """The garrison's daily budget (all theaters together) and each theater's own."""

    garrison: Budget = Budget()
    theaters: Mapping[str, Budget] = field(default_factory=dict)


@dataclass(frozen=True)
class _Usage:
    tokens: int = 0
    cost_usd: float = 0.0

    @classmethod
    def of(cls, rows: list[TheaterUsage]) -> _Usage:
        return cls(
            tokens=sum(r.tokens.input + r.tokens.output for r in rows),
            cost_usd=sum(r.cost_usd for r in rows),
        )


def enforce_budgets(
    ledger: LedgerClient, budgets: Budgets, saw: Counter[str], *, now: datetime
) -> list[str]:
    """Pause dispatch in theaters over budget and resume it in those back under; what was done.

    Counts `tokens_today`, `cost_today_micro_usd` (the garrison's) and `theaters_paused` (after
    the cycle) in `saw`.
    """
    day = now.astimezone(UTC).date()
    rows = ledger.usage(day=day)
    by_theater = {row.theater: _Usage.of([row]) for row in rows}
    total = _Usage.of(rows)
    saw["tokens_today"] = total.tokens
    saw["cost_today_micro_usd"] = round(total.cost_usd * 1_000_000)
    garrison_spent = budgets.garrison.spent(total.tokens, total.cost_usd)
    done: list[str] = []
    paused = 0
    for theater in ledger.list_theaters():
        reason = _over_budget(theater.name, budgets, by_theater, garrison_spent, day)
        if reason is not None and theater.dispatch_paused is None:
            event: ev.EventPayload = ev.DispatchPaused(theater=theater.name, reason=reason)
            if _append(ledger, theater, event):
                done.append(f"paused {theater.name}: {reason}")
                paused += 1
        elif reason is None and theater.dispatch_paused is not None:
            event = ev.DispatchResumed(theater=theater.name, reason=f"back under budget on {day}")
            if _append(ledger, theater, event):
                done.append(f"resumed {theater.name}")
            else:
                paused += 1
        elif theater.dispatch_paused is not None:
            paused += 1
    saw["theaters_paused"] = paused
    return done


def _over_budget(
    name: str,
    budgets: Budgets,
    usage: Mapping[str, _Usage],
    garrison_spent: str | None,
    day: date,
) -> str | None:
    """Why theater `name` must pause, or None while it is within every budget."""
    own = budgets.theaters.get(name)
    used = usage.get(name, _Usage())
    spent = own.spent(used.tokens, used.cost_usd) if own is not None else None
    if spent is not None:
        return f"daily budget of theater {name!r} spent: {spent} used on {day} (UTC)"
    if garrison_spent is not None:
        return f"daily garrison budget spent: {garrison_spent} used by all theaters on {day} (UTC)"
    return None


def _append(ledger: LedgerClient, theater: TheaterView, payload: ev.EventPayload) -> bool:
    """Append the pause or resume; False when the ledger refuses it because the theater is
    already in that state (the projection lets each happen only from the other)."""
    event = ev.NewEvent.of(payload, metadata=ev.EventMetadata(actor="duty"))
    try:
        ledger.append(ev.theater_stream(theater.name), [event], expected_version=None)
    except LedgerError as error:
        if error.status >= 500:
            raise
        log.info("duty.dispatch.moved_on", theater=theater.name, detail=error.detail)
        return False
    paused = isinstance(payload, ev.DispatchPaused)
    log.warning(
        "duty.dispatch.paused" if paused else "duty.dispatch.resumed",
        theater=theater.name,
        reason=event.data["reason"],
    )
    return True
