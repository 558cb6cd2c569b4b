"""A typed client for the ledger's HTTP API.

Transport failures are retried with backoff: every call is safe to repeat, appends included,
because re-sending an event whose id is already stored returns the stored result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError

from ironclaw.contracts.api import (
    AppendBatch,
    AppendBatchResult,
    AppendRequest,
    AppendResult,
    FeedPage,
    OrderView,
    ProfileHealth,
    RunView,
    SnapshotView,
    StreamPage,
    TheaterUsage,
    TheaterView,
    VersionConflict,
)
from ironclaw.contracts.clients.http import ServiceClient, ViewT, detail_of
from ironclaw.contracts.events import EventPayload, NewEvent


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


class LedgerClient(ServiceClient):
    """The ledger's API; 404 is `LedgerNotFound`, a version conflict `LedgerConflict`."""

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
        after: str | None = None,
    ) -> list[OrderView]:
        """One page of Orders in id order; pass the last id seen as `after` for the next."""
        params: dict[str, Any] = {"status": list(statuses), "limit": limit}
        if run_id:
            params["run_id"] = run_id
        if theater:
            params["theater"] = theater
        if after:
            params["after"] = after
        response = self._send("GET", "/orders", params=params)
        return [OrderView.model_validate(item) for item in response.json()]

    def iter_orders(
        self,
        *,
        statuses: Sequence[str] = (),
        run_id: str | None = None,
        theater: str | None = None,
        page_size: int = 500,
    ) -> Iterator[OrderView]:
        """Every matching Order, a page at a time (patrols: no cap on how many are active)."""
        after: str | None = None
        while True:
            page = self.list_orders(
                statuses=statuses, run_id=run_id, theater=theater, limit=page_size, after=after
            )
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].order_id

    def iter_runs(
        self,
        *,
        statuses: Sequence[str] = (),
        reply_status: str | None = None,
        page_size: int = 500,
    ) -> Iterator[RunView]:
        """Every Run in one of `statuses` (and with that reply status), in id order, a page
        at a time."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"status": list(statuses), "limit": page_size}
            if reply_status:
                params["reply_status"] = reply_status
            if after:
                params["after"] = after
            response = self._send("GET", "/runs", params=params)
            page = [RunView.model_validate(item) for item in response.json()]
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].run_id

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

    def get_profile(self, name: str) -> ProfileHealth:
        """A model profile's health; `LedgerNotFound` for a profile no Order has settled on."""
        return self._get(f"/profiles/{name}", ProfileHealth)

    def list_profiles(
        self, *, min_failures: int | None = None, disabled: bool | None = None
    ) -> list[ProfileHealth]:
        """Profiles with at least `min_failures` failures in a row, disabled or not."""
        params: dict[str, Any] = {}
        if min_failures is not None:
            params["min_failures"] = min_failures
        if disabled is not None:
            params["disabled"] = disabled
        response = self._send("GET", "/profiles", params=params)
        return [ProfileHealth.model_validate(item) for item in response.json()]

    def usage(self, *, day: date, theater: str | None = None) -> list[TheaterUsage]:
        """Tokens and cost of the attempts settled on `day` (UTC), per theater."""
        params: dict[str, Any] = {"day": day.isoformat()}
        if theater:
            params["theater"] = theater
        response = self._send("GET", "/usage", params=params)
        return [TheaterUsage.model_validate(item) for item in response.json()]

    def health(self) -> None:
        self._send("GET", "/health")

    def _get(self, path: str, view: type[ViewT], **params: Any) -> ViewT:
        return self._call("GET", path, view, params=params)

    def _raise_for(self, status: int, body: Any) -> None:
        if status == 404:
            raise LedgerNotFound(404, detail_of(body))
        if status == 409 and isinstance(body, dict):
            try:
                conflict = VersionConflict.model_validate(body)
            except ValidationError:
                pass  # a 409 that is not a version conflict (e.g. a stale attempt): plain error
            else:
                raise LedgerConflict(conflict)
        raise LedgerError(status, detail_of(body))
