"""The `profiles` projection: each model profile's failure streak and whether it is disabled.

A settled failure of an attempt a unit actually ran (`OrderFailed` after a claim, or
`IntegrationFailed`) lengthens its profile's streak, `OrderCompleted` ends it. A failure of an
attempt nobody claimed (a dispatch refused, an Order failed before it ran) says nothing about
the profile and is not counted. `version` is the version of the `profile-<name>` stream, which
carries `ProfileDisabled` and `ProfileEnabled`: 0 until the first of them.
"""

from __future__ import annotations

from typing import Any

from ironclaw.contracts import events as ev
from ironclaw.ledger.domain.records import EventRecord, EventRefused
from ironclaw.ledger.domain.store import ProjectionStore, Row

FAILURE_TEXT_LIMIT = 500


def profile_of_order(order: Row) -> str:
    """The profile an Order's spec names, else `default`."""
    spec: dict[str, Any] = order["spec"]
    return ev.profile_of(spec.get("profile"))


def _profile(store: ProjectionStore, record: EventRecord, name: str) -> Row:
    row = store.get("profiles", (name,))
    if row is not None:
        return row
    return {
        "name": name,
        "consecutive_failures": 0,
        "last_failure": None,
        "disabled": False,
        "disabled_reason": None,
        "updated_at": record.recorded_at,
        "version": 0,
    }


def _save(store: ProjectionStore, record: EventRecord, row: Row) -> None:
    row["updated_at"] = record.recorded_at
    store.put("profiles", row)


def record_failure(store: ProjectionStore, record: EventRecord, name: str, reason: str) -> None:
    """One more failure in a row for profile `name`."""
    row = _profile(store, record, name)
    row["consecutive_failures"] += 1
    row["last_failure"] = reason[:FAILURE_TEXT_LIMIT]
    _save(store, record, row)


def record_success(store: ProjectionStore, record: EventRecord, name: str) -> None:
    """Profile `name` completed an attempt: its streak is over (the row is written only then)."""
    row = store.get("profiles", (name,))
    if row is not None and row["consecutive_failures"] == 0:
        return
    row = row if row is not None else _profile(store, record, name)
    row["consecutive_failures"] = 0
    _save(store, record, row)


def disable(store: ProjectionStore, record: EventRecord, p: ev.ProfileDisabled) -> None:
    row = _profile(store, record, p.profile)
    row.update(disabled=True, disabled_reason=p.reason)
    _save(store, record, row)


def enable(store: ProjectionStore, record: EventRecord, p: ev.ProfileEnabled) -> None:
    row = store.get("profiles", (p.profile,))
    if row is None:
        raise EventRefused(f"profile {p.profile!r} has no record: it cannot be enabled")
    row.update(disabled=False, disabled_reason=None, consecutive_failures=0)
    _save(store, record, row)
