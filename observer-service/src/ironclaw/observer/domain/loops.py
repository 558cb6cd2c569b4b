"""Looping attempts: alive (fresh heartbeat) but going round in circles, burning the budget.

Two verdicts, read from the newest events of the order's stream (its tail only, so a cycle costs
the same however long the attempt or the order's history is):
- the same tool call (tool and arguments) repeated `repeats` times in a row while the files the
  unit changed did not grow;
- the last `stale_signals` Signals all report the same progress, tool calls, files and tokens,
  with no tool call among them, and the oldest of them is `stale_min_s` old.
A unit whose tool calls, files or tokens move is never looping, and a long single step (one model
call, one command) is not either until both the signal count and the time floor are passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import StreamPage
from ironclaw.contracts.clients.ledger import LedgerNotFound
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.domain.cycle import Cycle, current_attempt

log = get_logger(__name__)

ENDINGS = (ev.OrderCompleted, ev.OrderFailed, ev.OrderBlocked, ev.RecoveryRequired)
READ = (ev.OrderIssued, ev.OrderClaimed, ev.OrderCancelled, ev.ToolCalled, ev.SignalEmitted)
READ_TYPES = {kind.event_type for kind in (*READ, *ENDINGS)}


@dataclass(frozen=True)
class LoopRules:
    """When an alive attempt counts as looping."""

    repeats: int = 5
    stale_signals: int = 30
    stale_min_s: float = 600.0

    @property
    def window(self) -> int:
        """How many of an order's newest events are read: room for both verdicts' evidence."""
        return 4 * (self.repeats + self.stale_signals)


DEFAULT_LOOP_RULES = LoopRules()


@dataclass
class Trail:
    """What the current attempt did, as far back as the window reaches."""

    attempt: int
    from_claim: bool = False  # the window reaches back to the attempt's issue or claim
    over: bool = False  # it settled, was superseded or already reported since the listing
    steps: list[tuple[datetime, ev.ToolCalled | ev.SignalEmitted]] = field(default_factory=list)


def check_looping_attempts(cycle: Cycle, rules: LoopRules) -> None:
    """Report `RecoveryRequired(looping)` for every alive claimed or running attempt that loops."""
    for order in cycle.active_orders():
        if order.recovery_reason is not None:
            continue  # already reported for this attempt; the duty officer acts on it
        attempt = current_attempt(order)
        if attempt is None or cycle.heartbeat_stale(order, attempt):
            continue  # a silent attempt is the stall check's to judge
        try:
            page = cycle.ledger.read_stream(
                order.order_id, after_version=max(0, order.version - rules.window)
            )
        except LedgerNotFound:
            continue
        trail = _trail(page, order.attempt)
        if trail.over:
            continue
        detail = _repeated_call(trail, rules.repeats) or _no_progress(cycle, trail, rules)
        if detail is None:
            continue
        cycle.saw["looping"] += 1
        # At the version read: anything the unit appended since gets judged next cycle.
        cycle.require_recovery(order, order.attempt, "looping", detail, at_version=page.version)


def _trail(page: StreamPage, attempt: int) -> Trail:
    trail = Trail(attempt)
    for stored in page.events:
        if stored.type not in READ_TYPES:
            continue  # nothing the verdicts need (and no type this observer might not know)
        payload = ev.parse_payload(stored.type, stored.data)
        if isinstance(payload, ev.OrderIssued | ev.OrderClaimed) and payload.attempt == attempt:
            trail = Trail(attempt, from_claim=True)  # nothing before this is the attempt's
        elif _ends(payload, attempt):
            trail.over = True
        elif isinstance(payload, ev.ToolCalled | ev.SignalEmitted) and payload.attempt == attempt:
            trail.steps.append((stored.recorded_at, payload))
    return trail


def _ends(payload: ev.EventPayload, attempt: int) -> bool:
    if isinstance(payload, ev.OrderIssued):
        return payload.attempt > attempt
    if isinstance(payload, ENDINGS):
        return payload.attempt == attempt
    return isinstance(payload, ev.OrderCancelled)


def _repeated_call(trail: Trail, repeats: int) -> str | None:
    """The newest run of identical tool calls, when it is `repeats` long with no file change."""
    files = 0 if trail.from_claim else None  # files changed, as last signalled
    call: tuple[str, str] | None = None
    count, baseline = 0, None
    for _, step in trail.steps:
        if isinstance(step, ev.SignalEmitted):
            if call is not None and baseline is None:
                baseline = step.files_changed  # the window began inside the run
            if baseline is not None and step.files_changed > baseline:
                call, count = None, 0  # files changed during the run: work, not a loop
            files = step.files_changed
        elif (step.tool, step.arguments_summary) == call:
            count += 1
        else:
            call, count, baseline = (step.tool, step.arguments_summary), 1, files
    if call is None or count < repeats:
        return None
    tool, arguments = call
    return (
        f"the same tool call {count} times in a row with no file change: {tool} {arguments[:200]}"
    )


def _no_progress(cycle: Cycle, trail: Trail, rules: LoopRules) -> str | None:
    """The newest `stale_signals` Signals, when none moved and no tool call came between them."""
    tail = _newest_signals(trail.steps, rules.stale_signals)
    if tail is None:
        return None
    since, first = tail[0]
    if any(_progress(signal) != _progress(first) for _, signal in tail):
        return None
    frozen_s = cycle.age_s(since)
    if frozen_s < rules.stale_min_s:
        return None
    return (
        f"no progress across the last {len(tail)} signals ({frozen_s:.0f}s): "
        f"progress, tool calls ({first.tool_calls}), files changed ({first.files_changed}) "
        f"and tokens ({first.tokens.total}) unchanged"
    )


def _newest_signals(
    steps: Iterable[tuple[datetime, ev.ToolCalled | ev.SignalEmitted]], count: int
) -> list[tuple[datetime, ev.SignalEmitted]] | None:
    """The newest `count` Signals with no tool call among or after them; None when fewer."""
    signals: list[tuple[datetime, ev.SignalEmitted]] = []
    for recorded_at, step in reversed(list(steps)):
        if isinstance(step, ev.ToolCalled):
            return None  # a tool call is progress, whatever the Signals say
        signals.append((recorded_at, step))
        if len(signals) == count:
            return signals[::-1]
    return None


def _progress(signal: ev.SignalEmitted) -> tuple[object, ...]:
    return (signal.progress, signal.tool_calls, signal.files_changed, signal.tokens)
