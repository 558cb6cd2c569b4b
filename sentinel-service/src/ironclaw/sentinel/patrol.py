"""The sentinel patrol loop.

A placeholder until the real patrol lands: each round only logs `sentinel.patrol.idle`.
"""

from __future__ import annotations

import threading

from ironclaw.contracts.kit.logging import get_logger
from ironclaw.sentinel.config import Settings


def run_patrol(settings: Settings, stop: threading.Event) -> int:
    """Log one idle round every `patrol_interval_s` until `stop` is set; returns the rounds."""
    log = get_logger()
    rounds = 0
    while True:
        rounds += 1
        log.info("sentinel.patrol.idle", round=rounds, interval_s=settings.patrol_interval_s)
        if stop.wait(settings.patrol_interval_s):
            return rounds
