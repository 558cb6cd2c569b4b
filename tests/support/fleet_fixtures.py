"""Fixtures that run our own services in-process on loopback ports, for service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_server import ScriptedModel, openai_server, serve

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.ledger.app import create_app as create_ledger_app
from ironclaw.ledger.config import Settings as LedgerSettings


@pytest.fixture
def ledger_url(database_url: str) -> Iterator[str]:
    """A real ledger over HTTP on a fresh database (SQLite and PostgreSQL)."""
    with serve(create_ledger_app(LedgerSettings(database_url=database_url))) as url:
        yield url


@pytest.fixture
def ledger_client(ledger_url: str) -> Iterator[LedgerClient]:
    client = LedgerClient(ledger_url, retry_for_s=5)
    yield client
    client.close()


@pytest.fixture
def model_endpoint() -> Iterator[tuple[str, ScriptedModel]]:
    """A scripted OpenAI-compatible endpoint: (base_url, script)."""
    with openai_server() as endpoint:
        yield endpoint


@pytest.fixture
def model(model_endpoint: tuple[str, ScriptedModel]) -> ScriptedModel:
    """The script of `model_endpoint`."""
    return model_endpoint[1]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item (`rep_setup`, `rep_call`, `rep_teardown`), so
    fixtures can tell at teardown whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
