"""Fixtures of the worker's tests: a real ledger, the real vault, real git worktrees.

The vault is served over HTTP on a loopback port with its home under the test's `tmp_path`; the
worker reaches it through its production provider `VaultWorktrees`. Vault's layout
(docs/the-path-of-a-run.md): the `default` theater is a bare repository at
`<home>/theaters/default`, and each attempt gets a worktree at
`<home>/worktrees/<theater>/<order_id>-<attempt>` on branch `ironclaw/<order_id>/<attempt>`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openai_server import serve

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git, theater_lock
from ironclaw.contracts.kit.secrets import Redactor, environment_secrets, settings_secrets
from ironclaw.contracts.models import OrderBudget, RunBudget
from ironclaw.contracts.profiles import ModelProfile
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.vault.app import create_app as create_vault_app
from ironclaw.vault.config import Settings as VaultSettings
from ironclaw.worker.adapters.engines import engine_loader
from ironclaw.worker.adapters.engines.profile_settings import profile_secrets
from ironclaw.worker.adapters.vault import VaultArtifacts, VaultWorktrees
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import EngineLoader
from ironclaw.worker.domain.ports import AttemptServices


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The ledger's database: SQLite unless a test asks for more with
    `@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)`."""
    backend = getattr(request, "param", "sqlite")
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


@pytest.fixture
def vault_home(tmp_path: Path) -> Path:
    """The vault's `IRONCLAW_HOME`: theaters, worktrees and artifacts live under it."""
    return tmp_path / "home"


@pytest.fixture
def vault_url(vault_home: Path, ledger_url: str) -> Iterator[str]:
    """The real vault over HTTP on the test's ledger, with the `default` theater ensured."""
    settings = VaultSettings(home=vault_home, ledger_url=ledger_url, internal_token=None)
    with serve(create_vault_app(settings)) as url:
        with VaultClient(url) as vault:
            vault.ensure_default_theater()
        yield url


@pytest.fixture
def worktrees(vault_url: str) -> Iterator[VaultWorktrees]:
    """The worker's production worktree provider, asking the real vault."""
    with VaultClient(vault_url) as vault:
        yield VaultWorktrees(vault)


@pytest.fixture
def artifacts(vault_url: str) -> Iterator[VaultArtifacts]:
    """The worker's production artifact store, the real vault."""
    with VaultClient(vault_url) as vault:
        yield VaultArtifacts(vault)


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
        profile: str | None = None,
        run_budget: RunBudget | None = None,
        run_id: str | None = None,
    ) -> ExecuteOrder:
        order_id = new_id("ord")
        new_run = run_id is None
        if run_id is None:
            run_id = new_id("run")
            received = ev.RunReceived(
                run_id=run_id, theater="default", message=objective, budget=run_budget
            )
            ledger_client.append(run_id, [received], expected_version=0)
        spec = ev.PlannedOrder(
            order_id=order_id,
            key=key,
            objective=objective,
            success_criteria=["the change is committed"],
            commands=commands or [],
            engine=engine,
            profile=profile,
            budget=budget or OrderBudget(),
        )
        planned = ev.RunPlanned(run_id=run_id, planner="test", orders=[spec])
        order_events = [
            ev.OrderPlanned(order_id=order_id, run_id=run_id, theater="default", spec=spec),
            ev.OrderIssued(order_id=order_id, run_id=run_id, attempt=1),
        ]
        appends = [LedgerClient.request(order_id, order_events, expected_version=0)]
        if new_run:  # a further Order of a Run joins the plan it already has
            appends.insert(0, LedgerClient.request(run_id, [planned], expected_version=None))
        results = ledger_client.append_batch(appends)
        issued = results[-1].events[-1]
        return ExecuteOrder(event_id=issued.id, order_id=order_id, run_id=run_id, attempt=1)

    return issue


MakeServices = Callable[..., AttemptServices]


@pytest.fixture
def make_services(
    ledger_client: LedgerClient, worktrees: VaultWorktrees, artifacts: VaultArtifacts
) -> MakeServices:
    """`make_services(settings=None, load_engine=None, heartbeat_interval_s=None, ...)`:
    the services of an attempt over the real ledger and the real vault."""

    def make(
        settings: Settings | None = None,
        *,
        load_engine: EngineLoader | None = None,
        heartbeat_interval_s: float | None = None,
        worker_id: str = "test-host:1",
        engine_grace_s: float = 5.0,
        profiles: dict[str, ModelProfile] | None = None,
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
            profiles=profiles or {},
            artifacts=artifacts,
            redactor=Redactor(
                [
                    *settings_secrets(settings),
                    *environment_secrets(os.environ),
                    *profile_secrets((profiles or {}).values(), os.environ),
                ]
            ),
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


@pytest.fixture
def commit_on_mainline(vault_url: str, vault_home: Path) -> Callable[[dict[str, str]], None]:
    """`commit_on_mainline(files)`: commit onto the default theater's mainline, as a
    promotion would (a theater's `.ironclaw.toml`, say)."""

    def commit(files: dict[str, str]) -> None:
        repository = vault_home / "theaters" / "default"
        mainline = git(repository, "symbolic-ref", "--short", "HEAD")
        scratch = vault_home / "scratch"
        with theater_lock(repository):
            git(repository, "worktree", "add", str(scratch), mainline)
            for name, content in files.items():
                (scratch / name).write_text(content)
            git(scratch, "add", "-A")
            git(scratch, "commit", "-m", "theater config")
            git(repository, "worktree", "remove", str(scratch))

    return commit
