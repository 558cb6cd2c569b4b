"""What the worker's domain needs from outside: the ledger, worktrees, engines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import WorktreeRequest, WorktreeView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.secrets import Redactor
from ironclaw.contracts.profiles import ModelProfile
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.domain.engine import EngineLoader


class WorktreeProvider(Protocol):
    """Where attempts get their worktrees (vault in production)."""

    def create(self, request: WorktreeRequest) -> WorktreeView:
        """The attempt's worktree; asking again for the same attempt gives the same one."""
        ...

    def remove(self, order_id: str, attempt: int) -> None:
        """Remove (and archive) the attempt's worktree."""
        ...


class ArtifactStore(Protocol):
    """Where attempts keep output too long for an event (vault in production)."""

    def store_artifact(self, name: str, content: bytes) -> str:
        """Store `content` under `name`; its artifact id."""
        ...


@dataclass(frozen=True)
class AttemptServices:
    """What executing an attempt needs from the outside world."""

    ledger: LedgerClient
    worktrees: WorktreeProvider
    load_engine: EngineLoader
    worker_id: str
    allowed_programs: tuple[str, ...] = ()
    heartbeat_interval_s: float | None = None
    engine_grace_s: float = 30.0
    profiles: Mapping[str, ModelProfile] = field(default_factory=dict)
    artifacts: ArtifactStore | None = None
    redactor: Redactor = field(default_factory=Redactor)  # applied to events and artifacts


def event_metadata(message: ExecuteOrder, worker_id: str) -> ev.EventMetadata:
    """Events of an attempt: correlated with its run, caused by the message's event."""
    return ev.EventMetadata(
        correlation_id=message.run_id, causation_id=message.event_id, actor=worker_id
    )
