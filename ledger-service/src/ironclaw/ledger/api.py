"""The ledger's HTTP routes: thin, they parse, call the event store or the views, and answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import Engine

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
)
from ironclaw.contracts.models import OrderStatus, RunStatus
from ironclaw.ledger.adapters.event_store import EventStore
from ironclaw.ledger.adapters.views import Views
from ironclaw.ledger.config import Settings


@dataclass(frozen=True)
class Ledger:
    """What the routes need, built once by `create_app`."""

    settings: Settings
    engine: Engine
    store: EventStore
    views: Views


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
router = APIRouter()


@router.post(
    "/events", status_code=status.HTTP_201_CREATED, responses={200: {"model": AppendResult}}
)
def append_events(body: AppendRequest, ledger: LedgerDep, response: Response) -> AppendResult:
    """Append to one stream at `expected_version`: 409 on conflict; a re-sent append is a no-op."""
    (result,) = ledger.store.append([body])
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/events/batch", status_code=status.HTTP_201_CREATED)
def append_batch(body: AppendBatch, ledger: LedgerDep) -> AppendBatchResult:
    """Append to several streams in one transaction: all or nothing."""
    return AppendBatchResult(results=ledger.store.append(body.appends))


@router.get("/events")
def read_feed(
    ledger: LedgerDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> FeedPage:
    """The global feed: committed events after a position; never skips one that commits late."""
    return ledger.store.feed(after=after, limit=min(limit, ledger.settings.feed_max_limit))


@router.get("/streams/{stream_id}")
def read_stream(
    stream_id: str, ledger: LedgerDep, after_version: Annotated[int, Query(ge=0)] = 0
) -> StreamPage:
    return ledger.store.read_stream(stream_id, after_version=after_version)


@router.get("/streams/{stream_id}/snapshot")
def read_snapshot(stream_id: str, ledger: LedgerDep) -> SnapshotView:
    """The newest snapshot of a stream; read on with `after_version` from its version."""
    return ledger.store.latest_snapshot(stream_id)


@router.get("/runs/{run_id}")
def get_run(run_id: str, ledger: LedgerDep) -> RunView:
    return ledger.views.run(run_id)


@router.get("/runs")
def list_runs(
    ledger: LedgerDep,
    run_status: Annotated[list[RunStatus], Query(alias="status")] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
    reply_status: Literal["delivered", "failed"] | None = None,
) -> list[RunView]:
    return ledger.views.runs(
        statuses=run_status, limit=limit, after=after, reply_status=reply_status
    )


@router.get("/orders/{order_id}")
def get_order(order_id: str, ledger: LedgerDep) -> OrderView:
    return ledger.views.order(order_id)


@router.get("/orders")
def list_orders(
    ledger: LedgerDep,
    order_status: Annotated[list[OrderStatus], Query(alias="status")] = [],  # noqa: B006
    run_id: str | None = None,
    theater: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[
        str | None, Query(max_length=64, description="the last id of the previous page")
    ] = None,
) -> list[OrderView]:
    return ledger.views.orders(
        statuses=order_status, run_id=run_id, theater=theater, limit=limit, after=after
    )


@router.get("/theaters")
def list_theaters(ledger: LedgerDep) -> list[TheaterView]:
    return ledger.views.theaters()


@router.get("/theaters/{name}")
def get_theater(name: str, ledger: LedgerDep) -> TheaterView:
    return ledger.views.theater(name)


@router.get("/profiles")
def list_profiles(
    ledger: LedgerDep,
    min_failures: Annotated[int | None, Query(ge=0, description="failures in a row")] = None,
    disabled: bool | None = None,
) -> list[ProfileHealth]:
    """Model profiles' health: failure streaks and whether the duty officer disabled them."""
    return ledger.views.profiles(min_failures=min_failures, disabled=disabled)


@router.get("/profiles/{name}")
def get_profile(name: str, ledger: LedgerDep) -> ProfileHealth:
    return ledger.views.profile(name)


@router.get("/usage")
def get_usage(ledger: LedgerDep, day: date, theater: str | None = None) -> list[TheaterUsage]:
    """Tokens and cost of the attempts settled on `day` (UTC), per theater."""
    return ledger.views.usage(day=day, theater=theater)
