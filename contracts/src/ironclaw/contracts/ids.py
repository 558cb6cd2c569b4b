"""Sortable, prefixed identifiers (`run_…`, `ord_…`, `evt_…`)."""

from __future__ import annotations

import hashlib
import os
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
PREFIXES = frozenset({"run", "ord", "evt", "msg", "req", "art"})


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A ULID-shaped id: 48 bits of milliseconds, 80 random bits: sorts by creation time."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}; expected one of {sorted(PREFIXES)}")
    millis = time.time_ns() // 1_000_000
    randomness = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_encode(millis, 10)}{_encode(randomness, 16)}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(f"{prefix}_") and len(value) == len(prefix) + 27


def derived_event_id(*parts: str | int) -> str:
    """`evt_` and 26 hex digits of a hash of `parts`: the same parts give the same id.

    For events whose meaning makes them unique (e.g. "integration ready for attempt 2 of this
    Order"): the ledger stores an event id once, so appending it twice stores it once. Such ids
    do not sort by time like `new_id`'s. Start `parts` with the writer's name so two writers
    deriving from the same Order never swallow each other's events.
    """
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"evt_{digest[:26]}"
