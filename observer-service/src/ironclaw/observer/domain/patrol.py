"""One observer patrol cycle per theater, ending with a `PatrolCompleted` on its patrol stream."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import TheaterView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerError
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.observer.domain.completion import INTEGRATION_READY_AFTER_S, check_completed_orders
from ironclaw.observer.domain.cycle import Cycle
from ironclaw.observer.domain.loops import DEFAULT_LOOP_RULES, LoopRules, check_looping_attempts
from ironclaw.observer.domain.orphans import clear_orphaned_worktrees
from ironclaw.observer.domain.stalls import check_stalled_attempts

log = get_logger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_holder() -> str:
    """Who patrols: `hostname:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def observer_stream(theater: str) -> str:
    """The stream of the observer's patrol of one theater."""
    return ev.patrol_stream(f"observer-{theater}")


@dataclass(frozen=True)
class Observer:
    """The observer's patrol: the clients it works through and where worktrees live."""

    ledger: LedgerClient
    vault: VaultClient
    home: Path
    holder: str
    clock: Clock = utc_now
    loops: LoopRules = DEFAULT_LOOP_RULES
    integration_ready_after_s: float = INTEGRATION_READY_AFTER_S

    def patrol_all(self) -> list[ev.PatrolCompleted]:
        """One cycle over every theater in the ledger; a theater that fails does not stop it.

        A round that patrols nothing (no theaters, or the ledger out of reach) is logged as
        `observer.patrol.idle` with the reason; the next round tries again.
        """
        try:
            theaters = self.ledger.list_theaters()
        except (LedgerError, httpx.TransportError) as error:
            log.warning("observer.patrol.idle", reason="ledger unavailable", error=str(error))
            return []
        if not theaters:
            log.info("observer.patrol.idle", reason="no theaters")
        done = []
        for theater in theaters:
            try:
                done.append(self.patrol_theater(theater))
            except Exception:  # one broken theater must not blind the patrol to the others
                log.exception("observer.patrol.failed", theater=theater.name)
        return done

    def patrol_theater(self, theater: TheaterView) -> ev.PatrolCompleted:
        """Check one theater's stalls, orphans and completions, then record the cycle."""
        started = time.monotonic()
        cycle = Cycle(
            ledger=self.ledger,
            vault=self.vault,
            theater=theater,
            worktrees=self.home.expanduser().resolve() / "worktrees" / theater.name,
            now=self.clock(),
        )
        check_stalled_attempts(cycle)
        check_looping_attempts(cycle, self.loops)
        clear_orphaned_worktrees(cycle)
        check_completed_orders(cycle, ready_after_s=self.integration_ready_after_s)
        completed = ev.PatrolCompleted(
            scope=theater.name,
            patrol="observer",
            holder=self.holder,
            saw=dict(cycle.saw),
            did=cycle.did,
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        self.ledger.append(observer_stream(theater.name), [completed], expected_version=None)
        log.info(
            "observer.patrol.completed", theater=theater.name, saw=completed.saw, did=completed.did
        )
        return completed
