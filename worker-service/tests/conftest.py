"""Fixtures of the worker's tests: a real ledger, real git theaters, a vault stand-in.

`GitWorktrees` makes the same layout vault makes (docs/the-path-of-a-run.md): a bare theater
repository under `theaters/<name>` whose `info/exclude` lists `.ironclaw/`, and a worktree per
attempt under `worktrees/<theater>/<order_id>-<attempt>` on branch `ironclaw/<order_id>/<attempt>`,
with `.ironclaw/task.md` and `state.json`. It stands in for vault until vault's app lands; the
tests that need vault's HTTP API serve `vault_stand_in_app` over it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Response
from openai_server import serve

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import WorktreeRequest, WorktreeView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git, theater_lock
from ironclaw.contracts.models import OrderBudget
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.adapters.engines import engine_loader
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import EngineLoader
from ironclaw.worker.domain.ports import AttemptServices


class GitWorktrees:
    """A stand-in for vault's worktrees: the same layout, made with the same git commands."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def theater(self, name: str = "default") -> Path:
        """The theater's bare repository, created with one commit on `main` on first use."""
        repository = self.home / "theaters" / name
        if repository.exists():
            return repository
        seed = self.home / "seeds" / name
        seed.mkdir(parents=True)
        git(seed, "init", "--quiet", "--initial-branch=main")
        (seed / "README.md").write_text(f"# {name}\n")
        git(seed, "add", "README.md")
        git(seed, "commit", "--quiet", "-m", "initial commit")
        repository.parent.mkdir(parents=True, exist_ok=True)
        git(self.home, "clone", "--quiet", "--bare", str(seed), str(repository))
        (repository / "info").mkdir(exist_ok=True)
        (repository / "info" / "exclude").write_text(".ironclaw/\n")
        return repository

    def create(self, request: WorktreeRequest) -> WorktreeView:
        repository = self.theater(request.theater)
        path = self.home / "worktrees" / request.theater / f"{request.order_id}-{request.attempt}"
        branch = f"ironclaw/{request.order_id}/{request.attempt}"
        with theater_lock(repository):
            base = git(repository, "rev-parse", "refs/heads/main")
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                git(repository, "worktree", "add", "--quiet", "-b", branch, "--", str(path), base)
        order_files = path / ".ironclaw"
        order_files.mkdir(exist_ok=True)
        (order_files / "task.md").write_text(request.task_md)
        (order_files / "state.json").write_text(json.dumps(request.state, indent=2))
        return WorktreeView(
            theater=request.theater,
            order_id=request.order_id,
            attempt=request.attempt,
            path=str(path),
            branch=branch,
            base_commit=base,
            repository=str(repository),
        )

    def remove(self, order_id: str, attempt: int) -> None:
        for path in (self.home / "worktrees").glob(f"*/{order_id}-{attempt}"):
            git(self.theater(path.parent.name), "worktree", "remove", "--force", str(path))


def vault_stand_in_app(worktrees: GitWorktrees) -> FastAPI:
    """Vault's `POST /worktrees` and `DELETE /worktrees/{order_id}/{attempt}` over `worktrees`."""
    app = FastAPI()

    @app.post("/worktrees")
    def create(body: WorktreeRequest) -> WorktreeView:
        return worktrees.create(body)

    @app.delete("/worktrees/{order_id}/{attempt}")
    def remove(order_id: str, attempt: int) -> Response:
        worktrees.remove(order_id, attempt)
        return Response(status_code=204)

    return app


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The ledger's database: SQLite unless a test asks for more with
    `@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)`."""
    backend = getattr(request, "param", "sqlite")
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


@pytest.fixture
def worktrees(tmp_path: Path) -> GitWorktrees:
    return GitWorktrees(tmp_path / "home")


@pytest.fixture
def vault_url(worktrees: GitWorktrees) -> Iterator[str]:
    """Vault's worktree API served over HTTP (the stand-in until vault's app lands)."""
    with serve(vault_stand_in_app(worktrees)) as url:
        yield url


IssueOrder = Callable[..., ExecuteOrder]


@pytest.fixture
def issue_order(ledger_client: LedgerClient) -> IssueOrder:
    """`issue_order(objective=..., commands=[...], engine=None, budget=None)`: a Run with one
    Order, planned and issued on the real ledger; returns the `worker.execute_order` message."""

    def issue(
        objective: str = "add a greeting",
        *,
        key: str = "greet",
        commands: list[str] | None = None,
        engine: str | None = None,
        budget: OrderBudget | None = None,
    ) -> ExecuteOrder:
        run_id, order_id = new_id("run"), new_id("ord")
        ledger_client.append(
            run_id,
            [ev.RunReceived(run_id=run_id, theater="default", message=objective)],
            expected_version=0,
        )
        spec = ev.PlannedOrder(
            order_id=order_id,
            key=key,
            objective=objective,
            success_criteria=["the change is committed"],
            commands=commands or [],
            engine=engine,
            budget=budget or OrderBudget(),
        )
        planned = ev.RunPlanned(run_id=run_id, planner="test", orders=[spec])
        order_events = [
            ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="default", spec=spec),
            ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
        ]
        results = ledger_client.append_batch(
            [
                LedgerClient.request(run_id, [planned], expected_version=None),
                LedgerClient.request(order_id, order_events, expected_version=0),
            ]
        )
        issued = results[1].events[-1]
        return ExecuteOrder(event_id=issued.id, order_id=order_id, run_id=run_id, attempt=1)

    return issue


MakeServices = Callable[..., AttemptServices]


@pytest.fixture
def make_services(ledger_client: LedgerClient, worktrees: GitWorktrees) -> MakeServices:
    """`make_services(settings=None, load_engine=None, heartbeat_interval_s=None, ...)`:
    the services of an attempt over the real ledger and the git worktrees."""

    def make(
        settings: Settings | None = None,
        *,
        load_engine: EngineLoader | None = None,
        heartbeat_interval_s: float | None = None,
        worker_id: str = "test-host:1",
        engine_grace_s: float = 5.0,
    ) -> AttemptServices:
        settings = settings or worker_settings()
        return AttemptServices(
            ledger=ledger_client,
            worktrees=worktrees,
            load_engine=load_engine or engine_loader(settings),
            worker_id=worker_id,
            allowed_programs=tuple(settings.tool_allowed_programs),
            heartbeat_interval_s=heartbeat_interval_s,
            engine_grace_s=engine_grace_s,
        )

    return make


def worker_settings(**values: object) -> Settings:
    """Worker settings for a test: no model unless given one, whatever the environment says."""
    defaults: dict[str, object] = {"llm_base_url": None, "llm_model": None, "llm_api_key": None}
    return Settings(**{**defaults, **values})  # type: ignore[arg-type]


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    """`settings_for(**values)`: worker settings without a model unless given one."""
    return worker_settings


@pytest.fixture
def model_settings(model_endpoint: tuple[str, object]) -> Settings:
    """Worker settings pointing the openai engine at the scripted model."""
    url, _ = model_endpoint
    return worker_settings(llm_base_url=url, llm_model="scripted", llm_api_key="test-key")


@pytest.fixture
def stream_types(ledger_client: LedgerClient) -> Callable[[str], list[str]]:
    """`stream_types(order_id)`: the event types of an order's stream, in order."""
    return lambda order_id: [event.type for event in ledger_client.read_stream(order_id).events]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the worktrees that tools must never write into."""
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder
