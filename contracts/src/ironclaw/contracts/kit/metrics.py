"""StatsD metrics named `ironclaw.<service>.<metric>`; a no-op client when no host is configured."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import statsd


class Metrics(Protocol):
    def incr(self, stat: str, count: int = 1) -> None: ...
    def gauge(self, stat: str, value: float) -> None: ...
    def timing(self, stat: str, millis: float) -> None: ...


class NullMetrics:
    """Used when no StatsD host is set: metrics cost nothing and go nowhere."""

    def incr(self, stat: str, count: int = 1) -> None:
        return None

    def gauge(self, stat: str, value: float) -> None:
        return None

    def timing(self, stat: str, millis: float) -> None:
        return None


def create_metrics(service: str, host: str | None, port: int = 8125) -> Metrics:
    if not host:
        return NullMetrics()
    client: Metrics = statsd.StatsClient(host, port, prefix=f"ironclaw.{service}")
    return client


@contextmanager
def timed(metrics: Metrics, stat: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.timing(stat, (time.perf_counter() - started) * 1000)
