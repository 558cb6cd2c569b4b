"""Alerts POSTed as JSON to an operator's webhook (Slack-compatible `text` included)."""

from __future__ import annotations

from datetime import datetime

import httpx
from tenacity import (
    RetryError,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ironclaw.contracts.kit.logging import get_logger
from ironclaw.sentinel.domain.alerts import Alert

log = get_logger()


def _worth_retrying(error: BaseException) -> bool:
    """Transport failures, 429 and 5xx may pass; any other answer will not change."""
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        return status == 429 or status >= 500
    return False


class WebhookAlerter:
    """Sends each alert to `url` with a timeout and a few retries; a failure is only logged."""

    def __init__(
        self, url: str, *, timeout_s: float = 5.0, attempts: int = 3, backoff_s: float = 0.5
    ) -> None:
        self._url = url
        self._http = httpx.Client(timeout=timeout_s)
        self._attempts = attempts
        self._backoff_s = backoff_s

    def send(self, alert: Alert, *, holder: str, at: datetime) -> None:
        body = {
            "source": "ironclaw-sentinel",
            "kind": alert.kind,
            "status": alert.status,
            "detail": alert.detail,
            "reminder": alert.reminder,
            "holder": holder,
            "at": at.isoformat(),
            "text": f"[ironclaw sentinel] {alert.status}: {alert.kind}: {alert.detail}",
        }

        @retry(
            retry=retry_if_exception(_worth_retrying),
            wait=wait_exponential_jitter(
                multiplier=self._backoff_s, max=5 * self._backoff_s, jitter=self._backoff_s
            ),
            stop=stop_after_attempt(self._attempts),
        )
        def post() -> None:
            self._http.post(self._url, json=body).raise_for_status()

        try:
            post()
        except (RetryError, httpx.HTTPError) as error:
            cause = error.last_attempt.exception() if isinstance(error, RetryError) else error
            # The URL may carry a token (Slack's do): it stays out of the log.
            log.warning(
                "sentinel.alert.webhook_failed",
                kind=alert.kind,
                status=alert.status,
                attempts=self._attempts,
                error=type(cause).__name__,
                detail=_describe(cause),
            )

    def close(self) -> None:
        self._http.close()


def _describe(error: BaseException | None) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"answered {error.response.status_code}"
    return str(error) if error else ""
