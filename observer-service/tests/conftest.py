"""Fixtures of the observer's tests: a real ledger, the real vault over HTTP, real git theaters.

`Fleet` appends the real event sequences of an order's life to the ledger and asks the vault for
real worktrees, so the observer patrols exactly what the other services would leave behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openai_server import serve

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView, TheaterCreate, WorktreeRequest, WorktreeView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import AfterActionReport, OrderBudget
from ironclaw.observer.domain.loops import LoopRules
from ironclaw.observer.domain.patrol import Observer
from ironclaw.vault.app import create_app as create_vault_app
from ironclaw.vault.config import Settings as VaultSettings

THEATER = "project"
LONG_AGO = 1_000_000_000.0  # 2001: older than any heartbeat timeout


class Fleet:
    """Orders in the states the other services leave them in, on the real ledger and vault."""

    def __init__(self, ledger: LedgerClient, vault: VaultClient, home: Path) -> None:
        self.ledger = ledger
        self.vault = vault
        self.home = home

    def planned_order(self, budget: OrderBudget | None = None) -> tuple[str, str]:
        """A run with one order planned in the theater; returns (run_id, order_id)."""
        run_id, order_id = new_id("run"), new_id("ord")
        spec = ev.PlannedOrder(
            order_id=order_id, key="build", objective="do it", budget=budget or OrderBudget()
        )
        self.ledger.append(
            run_id,
            [ev.RunReceived(run_id=run_id, theater=THEATER, message="do it")],
            expected_version=0,
        )
        self.ledger.append(
            run_id,
            [ev.RunPlanned(run_id=run_id, planner="test", orders=[spec])],
            expected_version=None,
        )
        planned = ev.OrderPlanned(order_id=order_id, run_id=run_id, theater=THEATER, spec=spec)
        self.ledger.append(order_id, [planned], expected_version=0)
        return run_id, order_id

    def issue(self, run_id: str, order_id: str, attempt: int) -> None:
        issued = ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=attempt)
        self.ledger.append(order_id, [issued], expected_version=None)

    def start(self, run_id: str, order_id: str, attempt: int) -> WorktreeView:
        """Issue, claim and start `attempt` in a real worktree made by the vault."""
        self.issue(run_id, order_id, attempt)
        worktree = self.vault.create_worktree(
            WorktreeRequest(
                theater=THEATER,
                order_id=order_id,
                run_id=run_id,
                attempt=attempt,
                task_md="# do it\n",
            )
        )
        claimed = ev.OrderClaimed(
            order_id=order_id, run_id=run_id, attempt=attempt, worker_id="w1", lease_s=30
        )
        started = ev.AttemptStarted(
            order_id=order_id,
            run_id=run_id,
            attempt=attempt,
            branch=worktree.branch,
            worktree=worktree.path,
            base_commit=worktree.base_commit,
            engine="command",
        )
        self.ledger.append(order_id, [claimed, started], expected_version=None)
        return worktree

    def signal(self, order_id: str, attempt: int, **progress: Any) -> None:
        """One heartbeat; `progress` sets its fields (tool_calls, files_changed, tokens, …)."""
        self.signals(order_id, attempt, [progress])

    def signals(self, order_id: str, attempt: int, progress: list[dict[str, Any]]) -> None:
        """Heartbeats in a row, one per entry of `progress`."""
        beats = [
            ev.SignalEmitted(order_id=order_id, attempt=attempt, note="working", **fields)
            for fields in progress
        ]
        self.ledger.append(order_id, beats, expected_version=None)

    def tool_call(
        self, order_id: str, attempt: int, tool: str, arguments: str, *, files: int = 0
    ) -> None:
        """A `ToolCalled` and the heartbeat after it, reporting `files` changed so far."""
        called = ev.ToolCalled(
            order_id=order_id,
            attempt=attempt,
            tool=tool,
            arguments_summary=arguments,
            duration_ms=5,
            result_size=10,
        )
        beat = ev.SignalEmitted(order_id=order_id, attempt=attempt, files_changed=files)
        self.ledger.append(order_id, [called, beat], expected_version=None)

    def complete(self, run_id: str, order_id: str, attempt: int, commits: list[str]) -> None:
        done = ev.OrderCompleted(
            order_id=order_id,
            run_id=run_id,
            attempt=attempt,
            branch=f"ironclaw/{order_id}/{attempt}",
            commits=commits,
            aar=AfterActionReport(outcome="completed", summary="did it", commits=commits),
        )
        self.ledger.append(order_id, [done], expected_version=None)

    def order(self, order_id: str) -> OrderView:
        return self.ledger.get_order(order_id)

    def event_types(self, stream_id: str) -> list[str]:
        return [e.type for e in self.ledger.read_stream(stream_id).events]

    def observer(self, seconds_from_now: float = 0, loops: LoopRules | None = None) -> Observer:
        """An observer whose clock runs `seconds_from_now` ahead of the ledger's."""
        moment = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
        return Observer(
            ledger=self.ledger,
            vault=self.vault,
            home=self.home,
            holder="test:1",
            clock=lambda: moment,
            loops=loops or LoopRules(),
        )

    def patrol(
        self, seconds_from_now: float = 0, loops: LoopRules | None = None
    ) -> ev.PatrolCompleted:
        """One observer cycle of the theater, `seconds_from_now` ahead of the ledger's clock."""
        observer = self.observer(seconds_from_now, loops)
        return observer.patrol_theater(self.ledger.get_theater(THEATER))

    @staticmethod
    def age_everything(worktree: Path | str, mtime: float = LONG_AGO) -> None:
        """Set the mtime of everything in the worktree but `.git` (the folder itself too)."""
        root = Path(worktree)
        for folder, subfolders, files in os.walk(root, topdown=False):
            for name in (*subfolders, *files):
                path = Path(folder, name)
                if path.relative_to(root).parts[0] != ".git":
                    os.utime(path, (mtime, mtime), follow_symlinks=False)
        os.utime(root, (mtime, mtime))


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The ledger's database: SQLite unless a test asks for PostgreSQL too (indirect param)."""
    backend = getattr(request, "param", "sqlite")
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def vault_url(home: Path, ledger_url: str) -> Iterator[str]:
    """The real vault app served over HTTP on the test's ledger."""
    settings = VaultSettings(home=home, ledger_url=ledger_url, internal_token=None)
    with serve(create_vault_app(settings)) as url:
        yield url


@pytest.fixture
def vault(vault_url: str) -> Iterator[VaultClient]:
    client = VaultClient(vault_url, retry_for_s=5)
    yield client
    client.close()


@pytest.fixture
def theater_repository(tmp_path: Path, vault: VaultClient) -> Path:
    """The theater `project`, registered through the vault from a real repository."""
    source = tmp_path / "source"
    source.mkdir()
    git(source, "init", "--quiet", "--initial-branch=main")
    (source / "README.md").write_text("# project\n")
    git(source, "add", "README.md")
    git(source, "commit", "--quiet", "-m", "initial commit")
    view = vault.register_theater(TheaterCreate(name=THEATER, source=str(source)))
    return Path(view.path)


@pytest.fixture
def fleet(
    ledger_client: LedgerClient, vault: VaultClient, home: Path, theater_repository: Path
) -> Fleet:
    return Fleet(ledger_client, vault, home)
