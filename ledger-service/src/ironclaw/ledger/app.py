"""The ledger's FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine, text

from ironclaw.contracts.kit.auth import internal_token_guard
from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_router
from ironclaw.contracts.kit.metrics import create_metrics
from ironclaw.ledger.adapters.database import create_db_engine
from ironclaw.ledger.adapters.event_store import EventStore
from ironclaw.ledger.adapters.views import Views
from ironclaw.ledger.api import Ledger, router
from ironclaw.ledger.config import Settings


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app; the engine is created here (or given by a test), never at import time."""
    settings = settings or Settings()
    engine = engine or create_db_engine(settings.resolved_database_url)
    ledger = Ledger(
        settings=settings,
        engine=engine,
        store=EventStore(
            engine,
            snapshot_every=settings.snapshot_every,
            metrics=create_metrics("ledger", settings.statsd_host, settings.statsd_port),
        ),
        views=Views(engine),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    def database_answers() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    app = FastAPI(title="IronClaw ledger", version="0.1.0", lifespan=lifespan)
    app.state.ledger = ledger
    install_error_handling(app)
    app.include_router(health_router("ledger", {"database": database_answers}))
    app.include_router(
        router, dependencies=[Depends(internal_token_guard(settings.internal_token))]
    )
    return app
