"""The `usage` projection: tokens and cost per theater and UTC day, from settled attempts.

An attempt's AAR is counted on the day (of its settling event's `recorded_at`) it settled, so
today's row grows with today's work and a budget check reads one row per theater.
"""

from __future__ import annotations

from datetime import UTC

from ironclaw.contracts.models import AfterActionReport
from ironclaw.ledger.domain.records import EventRecord
from ironclaw.ledger.domain.store import ProjectionStore


def add_usage(
    store: ProjectionStore, record: EventRecord, theater: str, aar: AfterActionReport | None
) -> None:
    """Add one settled attempt's AAR to its theater's row for the day it settled."""
    if aar is None:
        return
    day = record.recorded_at.astimezone(UTC).date()
    row = store.get("usage", (day, theater)) or {
        "day": day,
        "theater": theater,
        "attempts": 0,
        "tokens_input": 0,
        "tokens_output": 0,
        "cost_usd": 0.0,
    }
    row.update(
        attempts=row["attempts"] + 1,
        tokens_input=row["tokens_input"] + aar.tokens.input,
        tokens_output=row["tokens_output"] + aar.tokens.output,
        cost_usd=round(row["cost_usd"] + aar.cost_usd, 9),
        updated_at=record.recorded_at,
    )
    store.put("usage", row)
