"""`GET /orders/{order_id}`, `POST /orders/{order_id}/retry`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import OrderView
from ironclaw.gateway.api.deps import GatewayDep, authorize
from ironclaw.gateway.api.idempotent import OnceDep, Reply
from ironclaw.gateway.domain.orders import retry_order
from ironclaw.gateway.domain.runs import read_order
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

router = APIRouter(tags=["orders"], dependencies=[Depends(authorize)], responses=OPENAPI_PROBLEMS)


@router.get("/orders/{order_id}")
async def get_order(order_id: str, gateway: GatewayDep) -> OrderView:
    """The order: spec, attempts (branch, commits, AAR, timings) and integration result."""
    return await run_in_threadpool(read_order, gateway.ledger, order_id)


@router.post("/orders/{order_id}/retry", status_code=202, response_model=OrderView)
async def post_retry(order_id: str, gateway: GatewayDep, once: OnceDep) -> JSONResponse:
    """Reissue a failed, integration-failed or blocked order as its next attempt (else 409)."""

    async def retry() -> Reply:
        view = await run_in_threadpool(retry_order, gateway.ledger, order_id)
        return Reply(202, view.model_dump(mode="json"))

    return await once.run(retry)
