"""`GET /runs/{run_id}/events`: the run's timeline as JSON, or live as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.events import StoredEvent
from ironclaw.gateway.api.deps import GatewayDep, authorize
from ironclaw.gateway.domain.timeline import RunTimeline
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

EVENT_STREAM = "text/event-stream"

router = APIRouter(tags=["runs"], dependencies=[Depends(authorize)], responses=OPENAPI_PROBLEMS)


@router.get(
    "/runs/{run_id}/events",
    response_model=list[StoredEvent],
    responses={200: {"content": {EVENT_STREAM: {}}}},
)
async def get_run_events(
    run_id: str,
    gateway: GatewayDep,
    after: Annotated[int, Query(ge=0, description="only events after this position")] = 0,
    accept: Annotated[str, Header()] = "application/json",
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response | list[StoredEvent]:
    """The run's events and its orders', in ledger order.

    With `Accept: text/event-stream`, a live stream: every event so far, then new ones as they
    are committed, ending after the event that settles the run. Each message has the event
    type as `event`, its global position as `id` (send `Last-Event-ID` to resume) and the
    stored event as JSON `data`.
    """
    timeline = RunTimeline(gateway.ledger, run_id)
    events = await run_in_threadpool(timeline.snapshot)
    if EVENT_STREAM not in accept:
        return [event for event in events if event.position > after]
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    stream = follow(timeline, events, after=after, poll_s=gateway.settings.events_poll_s)
    return EventSourceResponse(stream, ping=gateway.settings.sse_ping_s)


async def follow(
    timeline: RunTimeline, first: list[StoredEvent], *, after: int, poll_s: float
) -> AsyncIterator[ServerSentEvent]:
    """The snapshot's events, then new ones polled every `poll_s`, until the run settles."""
    pending = first
    while True:
        for event in pending:
            if event.position > after:
                yield ServerSentEvent(
                    data=event.model_dump_json(), event=event.type, id=str(event.position)
                )
        if timeline.settled:
            return
        await anyio.sleep(poll_s)
        pending = await run_in_threadpool(timeline.follow)
