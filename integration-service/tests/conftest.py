"""Fixtures of the integration tests: a real ledger, a real vault, its theaters and worktrees.

The theater is registered through the vault (a bare clone under the vault's home, recorded in the
ledger) and every attempt's worktree is made by the vault, so the layout is the fleet's own.
An order reaches `completed` the way it does in the fleet: `RunReceived`, `RunPlanned`,
`OrderPlanned`, `OrderIssued`, `OrderClaimed`, `AttemptStarted` (with the vault's worktree on
branch `ironclaw/<order_id>/<attempt>` made from the mainline), a commit with the `Run-Id:`/
`Order-Id:`/`Attempt:` trailers, and `OrderCompleted`.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openai_server import serve

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView, TheaterCreate, WorktreeRequest
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git, theater_lock
from ironclaw.contracts.models import AfterActionReport
from ironclaw.contracts.tasks import IntegrateOrder
from ironclaw.integration.adapters.vault import VaultAdapter
from ironclaw.integration.domain.integration import Integrator
from ironclaw.integration.domain.review import GatePolicy
from ironclaw.vault.app import create_app as create_vault_app
from ironclaw.vault.config import Settings as VaultSettings


@pytest.fixture
def database_url(request: pytest.FixtureRequest, postgres_admin_url: str | None) -> str:
    """The ledger's database: PostgreSQL when the suite has one, else SQLite; one run per test.

    Overrides the root fixture that runs each test on both: the ledger's own tests cover both
    backends, and nothing integration does depends on which one serves the ledger.
    """
    fixture = "postgres_url" if postgres_admin_url is not None else "sqlite_url"
    url: str = request.getfixturevalue(fixture)
    return url


@dataclass
class Theater:
    """A theater's bare repository in the vault, its mainline `main`, and a scratch folder."""

    name: str
    path: Path
    workspace: Path
    mainline: str = "main"
    scratch_count: int = 0

    def head(self) -> str:
        return git(self.path, "rev-parse", f"refs/heads/{self.mainline}")

    def subjects(self) -> list[str]:
        """The mainline's commit subjects, oldest first."""
        return git(self.path, "log", "--reverse", "--format=%s", self.mainline).splitlines()

    def show(self, path: str, revision: str | None = None) -> str:
        return git(self.path, "show", f"{revision or self.mainline}:{path}")

    def commits_with_trailer(self, order_id: str) -> list[str]:
        found = git(self.path, "log", "--format=%H", f"--grep=Order-Id: {order_id}", self.mainline)
        return found.splitlines()

    def commit_on_mainline(self, files: dict[str, str], message: str) -> str:
        """Commit `files` straight onto the mainline, as another order's promotion would."""
        self.scratch_count += 1
        scratch = self.workspace / f"scratch-{self.scratch_count}"
        with theater_lock(self.path):
            git(self.path, "worktree", "add", str(scratch), self.mainline)
            write_files(scratch, files)
            git(scratch, "add", "-A")
            git(scratch, "commit", "-m", message)
            git(self.path, "worktree", "remove", str(scratch))
        return self.head()


def write_files(folder: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


@dataclass
class Order:
    """One planned order of a run in the test's ledger, with its worktree once started."""

    order_id: str
    run_id: str
    key: str
    attempt: int = 1
    worktree: Path | None = None
    commits: list[str] = field(default_factory=list)

    @property
    def branch(self) -> str:
        return f"ironclaw/{self.order_id}/{self.attempt}"

    def request(self) -> IntegrateOrder:
        """A fresh `integration.integrate_order` message for the order's attempt."""
        return IntegrateOrder(
            event_id=new_id("evt"),
            order_id=self.order_id,
            run_id=self.run_id,
            attempt=self.attempt,
        )


@dataclass
class Stage:
    """A ledger, a vault, a registered theater, and the steps that bring orders to `completed`."""

    ledger: LedgerClient
    vault: VaultClient
    theater: Theater

    def plan_run(self, *keys: str) -> list[Order]:
        """A run planned into orders `keys`, in this plan order, each issued at attempt 1."""
        run_id = new_id("run")
        orders = [Order(new_id("ord"), run_id, key) for key in keys]
        specs = [ev.PlannedOrder(order_id=o.order_id, key=o.key, objective=o.key) for o in orders]
        self.ledger.append(
            run_id,
            [
                ev.RunReceived(run_id=run_id, theater=self.theater.name, message="do it"),
                ev.RunPlanned(run_id=run_id, planner="explicit", orders=specs),
            ],
            expected_version=0,
        )
        for order, spec in zip(orders, specs, strict=True):
            planned = ev.OrderPlanned(
                order_id=order.order_id, run_id=run_id, theater=self.theater.name, spec=spec
            )
            issued = ev.OrderIssued(order_id=order.order_id, run_id=run_id, attempt=1)
            self.ledger.append(order.order_id, [planned, issued], expected_version=0)
        return orders

    def start(self, order: Order) -> Path:
        """Claim the order and have the vault make its worktree from the current mainline."""
        made = self.vault.create_worktree(
            WorktreeRequest(
                theater=self.theater.name,
                order_id=order.order_id,
                run_id=order.run_id,
                attempt=order.attempt,
                task_md=f"# {order.key}\n",
            )
        )
        worktree = Path(made.path)
        order.worktree = worktree
        self._append(
            order,
            ev.OrderClaimed(
                order_id=order.order_id,
                run_id=order.run_id,
                attempt=order.attempt,
                worker_id="test-unit",
                lease_s=60,
            ),
            ev.AttemptStarted(
                order_id=order.order_id,
                run_id=order.run_id,
                attempt=order.attempt,
                branch=made.branch,
                worktree=made.path,
                base_commit=made.base_commit,
                engine="command",
            ),
        )
        return worktree

    def commit(self, order: Order, files: dict[str, str], subject: str | None = None) -> str:
        """Commit `files` in the order's worktree with the fleet's trailers."""
        assert order.worktree is not None
        write_files(order.worktree, files)
        git(order.worktree, "add", "-A")
        message = (
            f"{subject or order.key}\n\nRun-Id: {order.run_id}\nOrder-Id: {order.order_id}\n"
            f"Attempt: {order.attempt}\n"
        )
        git(order.worktree, "commit", "-m", message)
        sha = git(order.worktree, "rev-parse", "HEAD")
        order.commits.append(sha)
        return sha

    def complete(self, order: Order, *, commits: list[str] | None = None) -> None:
        """Report the attempt completed with its commits (or the ones given) and an AAR."""
        reported = order.commits if commits is None else commits
        aar = AfterActionReport(outcome="completed", summary=f"did {order.key}", commits=reported)
        self._append(
            order,
            ev.OrderCompleted(
                order_id=order.order_id,
                run_id=order.run_id,
                attempt=order.attempt,
                branch=order.branch,
                commits=reported,
                aar=aar,
            ),
        )

    def finish(self, order: Order, files: dict[str, str]) -> None:
        """Start, commit `files`, complete: an accepted attempt waiting for integration."""
        self.start(order)
        self.commit(order, files)
        self.complete(order)

    def order(self, order: Order) -> OrderView:
        return self.ledger.get_order(order.order_id)

    def event_types(self, stream_id: str) -> list[str]:
        return [event.type for event in self.ledger.read_stream(stream_id).events]

    def _append(self, order: Order, *payloads: ev.EventPayload) -> None:
        version = self.ledger.get_order(order.order_id).version
        self.ledger.append(order.order_id, list(payloads), expected_version=version)


def register_theater(vault: VaultClient, root: Path, name: str) -> Theater:
    """A repository with one commit on `main`, registered as theater `name` through the vault."""
    seed = root / f"{name}-seed"
    seed.mkdir(parents=True)
    git(seed, "init", "-q", "-b", "main")
    write_files(seed, {"README.md": "# demo\n\nfirst line\n"})
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "initial commit")
    registered = vault.register_theater(TheaterCreate(name=name, source=str(seed)))
    theater = Theater(name=name, path=Path(registered.path), workspace=root / f"{name}-work")
    theater.workspace.mkdir()
    return theater


StageFactory = Callable[[str], Stage]
"""Makes a `Stage` on a new theater of the given name."""


@pytest.fixture
def vault_url(tmp_path: Path, ledger_url: str) -> Iterator[str]:
    """The real vault app, its home in the test's folder, served over HTTP on the test's ledger."""
    home = tmp_path / "vault-home"
    settings = VaultSettings(home=home, ledger_url=ledger_url, internal_token=None)
    with serve(create_vault_app(settings)) as url:
        yield url


@pytest.fixture
def vault(vault_url: str) -> Iterator[VaultClient]:
    client = VaultClient(vault_url, retry_for_s=5)
    yield client
    client.close()


@pytest.fixture
def unreachable_vault() -> Iterator[VaultClient]:
    """A vault client aimed at a loopback port nothing listens on, giving up at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    client = VaultClient(f"http://127.0.0.1:{port}", retry_for_s=0)
    yield client
    client.close()


@pytest.fixture
def make_stage(ledger_client: LedgerClient, vault: VaultClient, tmp_path: Path) -> StageFactory:
    def make(name: str) -> Stage:
        root = tmp_path / name
        root.mkdir()
        return Stage(ledger_client, vault, register_theater(vault, root, name))

    return make


@pytest.fixture
def stage(make_stage: StageFactory) -> Stage:
    """A stage on the theater `demo`."""
    return make_stage("demo")


@pytest.fixture
def artifacts(vault: VaultClient) -> VaultAdapter:
    """Integration's production adapter to the real vault (artifacts and worktree removal)."""
    return VaultAdapter(vault)


@pytest.fixture
def integrator(ledger_client: LedgerClient, artifacts: VaultAdapter) -> Integrator:
    """Integration storing artifacts in the vault; worktrees stay, for the tests to inspect."""
    return Integrator(ledger_client, artifacts=artifacts, policy=GatePolicy(default_timeout_s=30))


@pytest.fixture
def second_ledger_client(ledger_url: str) -> Iterator[LedgerClient]:
    """Another connection to the same ledger, for a second integrator racing the first."""
    client = LedgerClient(ledger_url, retry_for_s=5)
    yield client
    client.close()
