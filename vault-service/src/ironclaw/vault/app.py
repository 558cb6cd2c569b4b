"""The vault service's FastAPI application, built on demand."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.errors import install_error_handling
from ironclaw.contracts.kit.health import health_router
from ironclaw.vault.api import vault_api
from ironclaw.vault.config import Settings
from ironclaw.vault.domain.artifacts import ArtifactStore
from ironclaw.vault.domain.layout import VaultLayout
from ironclaw.vault.domain.theaters import Theaters

READY_TIMEOUT_S = 2.0


def create_app(settings: Settings | None = None) -> FastAPI:
    """The internal API behind the token guard, plus open `/health` and `/ready`."""
    settings = settings or Settings()
    layout = VaultLayout.under(settings.home)
    ledger = LedgerClient(settings.ledger_url, token=settings.internal_token)
    # Readiness asks once and fast; the working client retries a ledger that restarts.
    probe = LedgerClient(
        settings.ledger_url,
        token=settings.internal_token,
        timeout_s=READY_TIMEOUT_S,
        retry_for_s=0,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ledger.close()
        probe.close()

    def home_writable() -> None:
        layout.home.mkdir(parents=True, exist_ok=True)
        marker = layout.home / f".ready-{uuid.uuid4().hex}"
        marker.write_bytes(b"")
        marker.unlink()

    app = FastAPI(title="IronClaw vault", version="0.1.0", lifespan=lifespan)
    install_error_handling(app)
    app.include_router(
        health_router(settings.service_name, {"ledger": probe.health, "home": home_writable})
    )
    app.include_router(
        vault_api(
            settings,
            layout,
            Theaters(layout, ledger),
            ArtifactStore(layout, settings.max_artifact_bytes),
        )
    )
    return app
