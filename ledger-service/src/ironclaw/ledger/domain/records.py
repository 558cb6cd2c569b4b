"""What the projector sees of an event, and where each kind of event must be written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ironclaw.contracts import events as ev
from ironclaw.contracts.kit.errors import ServiceError


class LedgerError(ServiceError):
    """Base of the ledger's refusals; nothing is written when one is raised."""


class EventRefused(LedgerError):
    """The event is well-formed but does not fit the state of its stream."""

    status = 422
    title = "Event refused"


class StaleAttempt(LedgerError):
    """A unit reported on an attempt that is no longer the Order's current one."""

    status = 409
    title = "Stale attempt"


@dataclass(frozen=True)
class EventRecord:
    event_id: str
    stream_id: str
    version: int
    payload: ev.EventPayload
    recorded_at: datetime

    @property
    def type(self) -> str:
        return self.payload.event_type


def owning_stream(payload: ev.EventPayload) -> str | None:
    """The stream an event must be appended to, or None when any stream may carry it."""
    theater_name = getattr(payload, "name", None)
    if isinstance(payload, ev.TheaterRegistered | ev.MainlineAdvanced) and theater_name:
        return ev.theater_stream(theater_name)
    if isinstance(payload, ev.DispatchPaused | ev.DispatchResumed):
        return ev.theater_stream(payload.theater)
    if isinstance(payload, ev.ProfileDisabled | ev.ProfileEnabled):
        return ev.profile_stream(payload.profile)
    order_id = getattr(payload, "order_id", None)
    if isinstance(order_id, str):
        return ev.order_stream(order_id)
    run_id = getattr(payload, "run_id", None)
    if isinstance(run_id, str):
        return ev.run_stream(run_id)
    return None


def check_stream(stream_id: str, payload: ev.EventPayload) -> None:
    owner = owning_stream(payload)
    if owner is not None and owner != stream_id:
        raise EventRefused(
            f"{payload.event_type} for {owner!r} cannot be appended to stream {stream_id!r}"
        )
