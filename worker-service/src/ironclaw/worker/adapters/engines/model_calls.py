"""Calling the model endpoint: our retry policy (tenacity) instead of the SDK's.

Rate limits (429), server errors (5xx), timeouts and dropped connections are retried with
exponential backoff and jitter, waiting what a `Retry-After` header asks when the endpoint sends
one (capped), and never past the attempt's deadline. Anything else (a 400, a bad key) fails at
once: asking again would get the same answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ironclaw.contracts.kit.logging import get_logger

RETRY_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a failed model call is tried again."""

    retries: int = 2
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 60.0


def is_transient(error: BaseException) -> bool:
    """A failure another try may not see: rate limit, server error, timeout, lost connection."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code >= 500 or error.status_code in RETRY_STATUSES
    return False


def retry_after_s(error: BaseException | None) -> float | None:
    """The wait a `Retry-After` (seconds or an HTTP date) or `retry-after-ms` header asks for."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def call_with_retries(
    call: Callable[[], Any],
    policy: RetryPolicy,
    *,
    remaining_s: Callable[[], float],
    cancelled: threading.Event | None = None,
) -> Any:
    """`call()`, retried on transient failures as `policy` says; the last error is raised.

    A wait between tries ends early, and no further try is made, once `cancelled` is set.
    """
    cancel = cancelled or threading.Event()
    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_initial_s,
        max=policy.backoff_max_s,
        jitter=policy.backoff_initial_s,
    )

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = retry_after_s(error)
        chosen = min(asked, policy.retry_after_max_s) if asked is not None else backoff(state)
        return max(0.0, min(chosen, remaining_s() - 1.0))

    def stop(state: RetryCallState) -> bool:
        if cancel.is_set() or remaining_s() <= 1.0:
            return True
        return bool(stop_after_attempt(policy.retries + 1)(state))

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        get_logger().warning(
            "worker.model.retrying",
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=type(error).__name__,
            status=getattr(error, "status_code", None),
        )

    def pause(seconds: float) -> None:
        cancel.wait(seconds)

    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait,
        stop=stop,
        before_sleep=log_retry,
        sleep=pause,
        reraise=True,
    )
    failures: list[BaseException] = []

    def attempt() -> Any:
        if cancel.is_set() and failures:
            raise failures[-1]  # cancelled while waiting: no new try, the last failure stands
        try:
            return call()
        except Exception as error:
            failures.append(error)
            raise

    return retrying(attempt)
