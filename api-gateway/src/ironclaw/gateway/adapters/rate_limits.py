"""Per-caller request limits with the `limits` library: counters in Redis, or in memory in dev."""

from __future__ import annotations

import math
import time
from typing import Final

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE: Final = "ironclaw-gateway"


class RateLimiter:
    """Counts requests per caller against limits like `60/minute; 1000/hour` (moving window).

    With a Redis URL every gateway process shares the counters; in memory they are per process.
    """

    def __init__(self, limit: str, redis_url: str | None) -> None:
        self.limit = limit
        self._items = parse_many(limit)
        self._storage = storage_from_string(redis_url or "memory://")
        self._strategy = MovingWindowRateLimiter(self._storage)

    def hit(self, caller: str) -> int | None:
        """Count one request of `caller`: None when allowed, else whole seconds to wait."""
        for item in self._items:
            if not self._strategy.hit(item, NAMESPACE, caller):
                stats = self._strategy.get_window_stats(item, NAMESPACE, caller)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None
