"""Event ids derived from what an event means, so appending it twice stores it once."""

from __future__ import annotations

import hashlib


def derived_event_id(*parts: str | int) -> str:
    """`evt_` and 26 hex digits of a hash of `parts`: the same parts give the same id.

    The same scheme as co's; the duty officer puts `duty` first in `parts`, so its events never
    collide with (and are never swallowed by) an event co derived from the same Order.
    """
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"evt_{digest[:26]}"
