"""Fixtures of the ledger's tests."""

from __future__ import annotations

import pytest
from ledger_support import Ledger
from sqlalchemy import Engine

from ironclaw.ledger.adapters.event_store import EventStore


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    return Ledger(EventStore(engine, snapshot_every=100))
