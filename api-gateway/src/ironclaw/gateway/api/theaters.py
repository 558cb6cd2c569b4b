"""`POST /theaters`, `GET /theaters`, `GET /theaters/{name}`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import TheaterCreate, TheaterView
from ironclaw.contracts.clients.ledger import LedgerNotFound
from ironclaw.contracts.kit.errors import NotFound
from ironclaw.gateway.api.deps import GatewayDep, authorize
from ironclaw.gateway.api.idempotent import OnceDep, Reply
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

router = APIRouter(tags=["theaters"], dependencies=[Depends(authorize)], responses=OPENAPI_PROBLEMS)


@router.post("/theaters", status_code=201, response_model=TheaterView)
async def post_theater(body: TheaterCreate, gateway: GatewayDep, once: OnceDep) -> JSONResponse:
    """Register a theater from a local path or git URL (the vault clones it bare)."""

    async def register() -> Reply:
        view = await run_in_threadpool(gateway.vault.register_theater, body)
        return Reply(201, view.model_dump(mode="json"), {"Location": f"/theaters/{view.name}"})

    return await once.run(register)


@router.get("/theaters")
async def list_theaters(gateway: GatewayDep) -> list[TheaterView]:
    """Every registered theater, with its mainline's head."""
    return await run_in_threadpool(gateway.ledger.list_theaters)


@router.get("/theaters/{name}")
async def get_theater(name: str, gateway: GatewayDep) -> TheaterView:
    """A theater: `name, source, mainline, head, path`."""

    def read() -> TheaterView:
        try:
            return gateway.ledger.get_theater(name)
        except LedgerNotFound:
            raise NotFound(f"theater {name!r} is not registered") from None

    return await run_in_threadpool(read)
