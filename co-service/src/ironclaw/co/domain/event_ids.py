"""Event ids derived from what an event means, so appending it twice stores it once."""

from __future__ import annotations

import hashlib


def derived_event_id(*parts: str | int) -> str:
    """`evt_` and 26 hex digits of a hash of `parts`: the same parts give the same id.

    The ledger stores an event id once; re-appending it answers the stored result. Ids made
    this way do not sort by time like `new_id`'s, which nothing relies on.
    """
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"evt_{digest[:26]}"
