"""Theaters: registering a repository, creating `default` on first use, and reading them back.

A theater's repository is a bare clone at `$IRONCLAW_HOME/theaters/<name>`; the ledger's
`TheaterRegistered` (stream `theater-<name>`, expected version 0) says it exists. Creation is
serialised per name by a lock held across threads and processes, and built in a staging folder
moved into place only once complete, so a crash leaves at most an unregistered folder, which the
next attempt replaces.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import TheaterCreate, TheaterView
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.kit.errors import Conflict, NotFound, Unprocessable
from ironclaw.contracts.kit.git import GitError
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.vault.adapters.locks import exclusive
from ironclaw.vault.adapters.repository import (
    BareRepository,
    clone_bare,
    init_bare_with_initial_commit,
)
from ironclaw.vault.domain.errors import (
    LedgerUnavailable,
    RepositoryMissing,
    git_failures_reported,
)
from ironclaw.vault.domain.layout import DEFAULT_THEATER, VaultLayout, checked_theater_name
from ironclaw.vault.domain.sources import checked_mainline, checked_source, redacted

DEFAULT_MAINLINE = "main"
DEFAULT_SOURCE = "vault:init"
INITIAL_COMMIT_MESSAGE = "IronClaw: initial commit"

log = get_logger(__name__)


@dataclass(frozen=True)
class Theater:
    """What worktree operations need of a registered theater."""

    name: str
    mainline: str
    repository: Path


class Theaters:
    """The theaters of one vault: their repositories on disk, their registrations in the ledger."""

    def __init__(self, layout: VaultLayout, ledger: LedgerClient) -> None:
        self._layout = layout
        self._ledger = ledger

    def register(self, request: TheaterCreate) -> TheaterView:
        """Clone `request.source` bare as theater `request.name` and register it (409 if taken)."""
        name = checked_theater_name(request.name)
        mainline = checked_mainline(request.mainline)
        source = checked_source(request.source)
        with exclusive(self._lock_file(name)):
            if self._registration(name) is not None:
                raise Conflict(f"theater exists: {name!r} is already registered")
            repository = self._build(name, mainline, lambda path: _clone(source, path))
            try:
                self._record(name, redacted(source), mainline, repository)
            except LedgerConflict:
                raise Conflict(f"theater exists: {name!r} is already registered") from None
        log.info("vault.theater.registered", theater=name, source=redacted(source))
        return self._view(name, redacted(source), mainline)

    def ensure(self, name: str) -> TheaterView:
        """The `default` theater, created on first use; only `default` can be ensured (404)."""
        if name != DEFAULT_THEATER:
            raise NotFound(f"only the {DEFAULT_THEATER!r} theater is created on demand")
        registered = self._registration(name)
        if registered is not None:  # the common case answers without taking the lock
            return self._view(name, registered.source, registered.mainline)
        with exclusive(self._lock_file(name)):
            registered = self._registration(name)
            if registered is not None:
                return self._view(name, registered.source, registered.mainline)
            repository = BareRepository(self._layout.theater(name))
            if repository.branch_head(DEFAULT_MAINLINE) is None:
                repository = self._build(name, DEFAULT_MAINLINE, _initialise)
            else:  # built by an attempt that died before registering it: reuse it
                repository.exclude_order_files()
            try:
                self._record(name, DEFAULT_SOURCE, DEFAULT_MAINLINE, repository)
                log.info("vault.theater.created", theater=name)
            except LedgerConflict:
                log.info("vault.theater.created_elsewhere", theater=name)
        return self.get(name)

    def get(self, name: str) -> TheaterView:
        """A registered theater with its mainline head read live from git (404 if unknown)."""
        registered = self._registration(checked_theater_name(name))
        if registered is None:
            raise NotFound(f"unknown theater {name!r}")
        return self._view(name, registered.source, registered.mainline)

    def list(self) -> list[TheaterView]:
        with _ledger_answers():
            registered = self._ledger.list_theaters()
        return [self._view(t.name, t.source, t.mainline) for t in registered]

    def locate(self, name: str) -> Theater:
        """The repository and mainline of registered theater `name`, for worktree operations."""
        registered = self._registration(checked_theater_name(name))
        if registered is None:
            raise NotFound(f"unknown theater {name!r}")
        repository = BareRepository(self._layout.theater(name))
        if not repository.exists():
            raise RepositoryMissing(
                f"theater {name!r} is registered but {repository.path} holds no repository"
            )
        return Theater(name=name, mainline=registered.mainline, repository=repository.path)

    def _registration(self, name: str) -> TheaterView | None:
        with _ledger_answers():
            try:
                return self._ledger.get_theater(name)
            except LedgerNotFound:
                return None

    def _record(self, name: str, source: str, mainline: str, repository: BareRepository) -> None:
        registered = ev.TheaterRegistered(
            name=name,
            source=source,
            mainline=mainline,
            path=str(repository.path),
            head=repository.branch_head(mainline),
        )
        with _ledger_answers():
            self._ledger.append(ev.theater_stream(name), [registered], expected_version=0)

    def _build(
        self, name: str, mainline: str, make: Callable[[Path], BareRepository]
    ) -> BareRepository:
        """Make the repository in a staging folder, check it, then move it into place."""
        final = self._layout.theater(name)
        staging = final.with_name(f".{name}.staging-{uuid.uuid4().hex}")
        try:
            with git_failures_reported():
                repository = make(staging)
            if repository.branch_head(mainline) is None:
                raise Unprocessable(
                    f"the source has no branch {mainline!r} to use as mainline", field="mainline"
                )
            repository.exclude_order_files()
            # Only an unregistered leftover can be here: registration happens after this move.
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return BareRepository(final)

    def _view(self, name: str, source: str, mainline: str) -> TheaterView:
        repository = BareRepository(self._layout.theater(name))
        head = repository.branch_head(mainline) if repository.exists() else None
        return TheaterView(
            name=name, source=source, mainline=mainline, head=head, path=str(repository.path)
        )

    def _lock_file(self, name: str) -> Path:
        return self._layout.theaters / f".{checked_theater_name(name)}.lock"


def _clone(source: str, destination: Path) -> BareRepository:
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        return clone_bare(source, destination)
    except GitError as error:
        raise Unprocessable(
            f"cannot clone {redacted(source)}: {redacted(error.output.strip()[-1000:], source)}",
            field="source",
        ) from None


def _initialise(destination: Path) -> BareRepository:
    destination.parent.mkdir(parents=True, exist_ok=True)
    return init_bare_with_initial_commit(destination, DEFAULT_MAINLINE, INITIAL_COMMIT_MESSAGE)


@contextmanager
def _ledger_answers() -> Iterator[None]:
    """Turn a ledger that fails to answer (not a conflict, not a 404) into a clear 503."""
    try:
        yield
    except (LedgerConflict, LedgerNotFound):
        raise
    except (LedgerError, httpx.HTTPError) as error:
        raise LedgerUnavailable(f"the ledger did not answer: {error}") from error
