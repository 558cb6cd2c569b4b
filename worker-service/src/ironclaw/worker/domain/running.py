"""Running an engine safely: in its own thread, bounded in time, with a heartbeat beside it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from ironclaw.contracts.kit.logging import get_logger
from ironclaw.worker.domain.engine import Engine, EngineContext, EngineResult, Progress

MAX_HEARTBEAT_INTERVAL_S = 10.0


def heartbeat_interval(configured: float | None, heartbeat_timeout_s: int) -> float:
    """Beat often enough that three beats fit in the Order's heartbeat timeout, at most 10 s."""
    if configured is not None:
        return configured
    return min(MAX_HEARTBEAT_INTERVAL_S, heartbeat_timeout_s / 3)


class ProgressBoard:
    """The latest progress an engine reported, read by the heartbeat thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest = Progress()

    def update(self, progress: Progress) -> None:
        with self._lock:
            self._latest = progress

    def latest(self) -> Progress:
        with self._lock:
            return self._latest


class Heartbeat:
    """Calls `beat` every `interval_s` from a side thread while the block runs."""

    def __init__(self, beat: Callable[[], None], interval_s: float) -> None:
        self._beat = beat
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._beat()
            except Exception:  # a missed beat is logged; the next one may get through
                get_logger().warning("worker.heartbeat.failed", exc_info=True)


def run_bounded(
    engine: Engine, context: EngineContext, timeout_s: float
) -> tuple[EngineResult, bool]:
    """The engine's result, and whether it returned (an engine still running must not be
    committed under); a raised exception or a run past `timeout_s` becomes `failed`."""
    outcome: list[EngineResult] = []
    raised: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(engine.run(context))
        except BaseException as error:  # reported as the attempt's failure, never lost
            raised.append(error)

    thread = threading.Thread(target=work, name=f"engine-{engine.name}", daemon=True)
    thread.start()
    thread.join(timeout=timeout_s)
    if thread.is_alive():
        context.stop.set()
        reason = f"engine {engine.name} did not return within {timeout_s:.0f} s of its deadline"
        return EngineResult(outcome="failed", summary=reason, reason=reason, retryable=True), False
    if raised:
        error = raised[0]
        get_logger().error("worker.engine.raised", engine=engine.name, exc_info=error)
        reason = f"engine {engine.name} raised {type(error).__name__}: {error}"
        return EngineResult(outcome="failed", summary=reason, reason=reason, retryable=True), True
    return outcome[0], True
