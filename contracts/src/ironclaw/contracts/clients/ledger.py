"""A typed client for the ledger's HTTP API.

Transport failures are retried with backoff: every call is safe to repeat, appends included,
because re-sending an event whose id is already stored returns the stored result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from ironclaw.contracts.api import (
    AppendBatch,
    AppendBatchResult,
    AppendRequest,
    AppendResult,
    FeedPage,
    OrderView,
    RunView,
    SnapshotView,
    StreamPage,
    TheaterView,
    VersionConflict,
)
from ironclaw.contracts.events import EventPayload, NewEvent

ViewT = TypeVar("ViewT", bound=BaseModel)


class LedgerError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"ledger answered {status}: {detail}")
        self.status = status
        self.detail = detail


class LedgerNotFound(LedgerError):
    pass


class LedgerConflict(LedgerError):
    """The stream moved past the expected version: nothing was written."""

    def __init__(self, conflict: VersionConflict) -> None:
        super().__init__(409, conflict.detail or "version conflict")
        self.conflict = conflict


class LedgerClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | str | None = None,
        timeout_s: float = 10.0,
        retry_for_s: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout_s)
        self._http.headers.update(headers)
        self._retry_for_s = retry_for_s

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LedgerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def request(
        stream_id: str,
        events: Sequence[NewEvent | EventPayload],
        *,
        expected_version: int | None,
    ) -> AppendRequest:
        """An append to one stream, for `append_batch`."""
        return AppendRequest(
            stream_id=stream_id,
            expected_version=expected_version,
            events=[e if isinstance(e, NewEvent) else NewEvent.of(e) for e in events],
        )

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent | EventPayload],
        *,
        expected_version: int | None,
    ) -> AppendResult:
        """Append atomically; `LedgerConflict` when the stream is not at `expected_version`."""
        request = self.request(stream_id, events, expected_version=expected_version)
        response = self._send("POST", "/events", json=request.model_dump(mode="json"))
        return AppendResult.model_validate(response.json())

    def append_batch(self, appends: Sequence[AppendRequest]) -> list[AppendResult]:
        """Append to several streams in one transaction: all are written, or none."""
        batch = AppendBatch(appends=list(appends))
        response = self._send("POST", "/events/batch", json=batch.model_dump(mode="json"))
        return AppendBatchResult.model_validate(response.json()).results

    def list_orders(
        self,
        *,
        statuses: Sequence[str] = (),
        run_id: str | None = None,
        theater: str | None = None,
        limit: int = 100,
    ) -> list[OrderView]:
        params: dict[str, Any] = {"status": list(statuses), "limit": limit}
        if run_id:
            params["run_id"] = run_id
        if theater:
            params["theater"] = theater
        response = self._send("GET", "/orders", params=params)
        return [OrderView.model_validate(item) for item in response.json()]

    def read_stream(self, stream_id: str, *, after_version: int = 0) -> StreamPage:
        return self._get(f"/streams/{stream_id}", StreamPage, after_version=after_version)

    def latest_snapshot(self, stream_id: str) -> SnapshotView:
        return self._get(f"/streams/{stream_id}/snapshot", SnapshotView)

    def feed(self, *, after: int = 0, limit: int = 100) -> FeedPage:
        return self._get("/events", FeedPage, after=after, limit=limit)

    def get_run(self, run_id: str) -> RunView:
        return self._get(f"/runs/{run_id}", RunView)

    def get_order(self, order_id: str) -> OrderView:
        return self._get(f"/orders/{order_id}", OrderView)

    def get_theater(self, name: str) -> TheaterView:
        return self._get(f"/theaters/{name}", TheaterView)

    def list_theaters(self) -> list[TheaterView]:
        response = self._send("GET", "/theaters")
        return [TheaterView.model_validate(item) for item in response.json()]

    def health(self) -> None:
        self._send("GET", "/health")

    def _get(self, path: str, view: type[ViewT], **params: Any) -> ViewT:
        return view.model_validate(self._send("GET", path, params=params).json())

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        @retry(
            retry=retry_if_exception_type(httpx.TransportError),
            wait=wait_exponential_jitter(multiplier=0.1, max=2.0, jitter=0.1),
            stop=stop_after_delay(self._retry_for_s),
            reraise=True,
        )
        def send() -> httpx.Response:
            return self._http.request(method, path, **kwargs)

        response = send()
        if response.status_code < 400:
            return response
        body = _json_or_text(response)
        detail = str(body.get("detail") if isinstance(body, dict) else body)
        if response.status_code == 404:
            raise LedgerNotFound(404, detail)
        if response.status_code == 409 and isinstance(body, dict):
            try:
                conflict = VersionConflict.model_validate(body)
            except ValidationError:
                pass  # a 409 that is not a version conflict (e.g. a stale attempt): plain error
            else:
                raise LedgerConflict(conflict)
        raise LedgerError(response.status_code, detail)


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
