"""Fixtures of the vault's tests: a vault app on a real ledger, and real git repositories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openai_server import serve

from ironclaw.contracts.api import WorktreeRequest
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git
from ironclaw.ledger.app import create_app as create_ledger_app
from ironclaw.ledger.config import Settings as LedgerSettings
from ironclaw.vault.app import create_app
from ironclaw.vault.config import Settings

EVERY_BACKEND = "every_ledger_backend"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{EVERY_BACKEND}: run on a SQLite and a PostgreSQL ledger")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A real ledger on SQLite for every test; on PostgreSQL too for those marked so.

    The vault only appends one event and reads projections, so running every git test twice
    would double the suite's time for nothing the ledger's own tests do not already cover.
    """
    if "ledger_backend" in metafunc.fixturenames:
        marked = metafunc.definition.get_closest_marker(EVERY_BACKEND) is not None
        metafunc.parametrize("ledger_backend", ["sqlite", "postgres"] if marked else ["sqlite"])


@pytest.fixture
def ledger_url(ledger_backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A real ledger over HTTP on a fresh database of `ledger_backend`."""
    database_url: str = request.getfixturevalue(f"{ledger_backend}_url")
    with serve(create_ledger_app(LedgerSettings(database_url=database_url))) as url:
        yield url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The vault's `$IRONCLAW_HOME`, beside (not above) the test's other files."""
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path, ledger_url: str) -> Settings:
    return Settings(home=home, ledger_url=ledger_url, internal_token=None)


@pytest.fixture
def vault(settings: Settings) -> Iterator[TestClient]:
    """The vault's HTTP API over a real ledger."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def source_repo(tmp_path: Path) -> Path:
    """A project to register: `main` with two commits, `develop` one commit further."""
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit_file(repo, "README.md", "# project\n")
    commit_file(repo, "src.py", "print('hi')\n")
    git(repo, "branch", "develop")
    git(repo, "checkout", "--quiet", "develop")
    commit_file(repo, "feature.py", "x = 1\n")
    git(repo, "checkout", "--quiet", "main")
    return repo


CommitFile = Callable[[Path, str, str], str]
NewRequest = Callable[..., WorktreeRequest]
FilesOutside = Callable[[], set[Path]]


@pytest.fixture
def commit() -> CommitFile:
    """`commit(repo, name, text)`: write a file in a work tree, commit it, return the commit."""
    return commit_file


@pytest.fixture
def new_request() -> NewRequest:
    """`new_request(theater="default", **changes)`: a valid WorktreeRequest for a new order."""
    return worktree_request


@pytest.fixture
def files_outside_home(tmp_path: Path, home: Path) -> FilesOutside:
    """Every path under the test's folder but outside home: what hostile input must not change."""
    return lambda: {p for p in tmp_path.rglob("*") if not p.is_relative_to(home)}


def commit_file(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "--quiet", "-m", f"add {name}")
    return git(repo, "rev-parse", "HEAD")


def worktree_request(theater: str = "default", **changes: object) -> WorktreeRequest:
    values: dict[str, object] = {
        "theater": theater,
        "order_id": new_id("ord"),
        "run_id": new_id("run"),
        "attempt": 1,
        "task_md": "# Objective\nAdd a file.\n",
        "state": {"progress": 0.0},
        **changes,
    }
    return WorktreeRequest.model_validate(values)
