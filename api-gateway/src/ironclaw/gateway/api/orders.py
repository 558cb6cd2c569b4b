"""`GET /orders/{order_id}`, `POST /orders/{order_id}/retry`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import OrderRetried, OrderView
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


@router.post("/orders/{order_id}/retry", status_code=202, response_model=OrderRetried)
async def post_retry(order_id: str, gateway: GatewayDep, once: OnceDep) -> JSONResponse:
    """Reissue an order that settled failed, integration_failed, blocked or cancelled as its
    next attempt; the answer says what that does for its run. 409 says why it may not."""

    async def retry() -> Reply:
        view = await run_in_threadpool(retry_order, gateway.ledger, order_id)
        return Reply(202, view.model_dump(mode="json"))

    return await once.run(retry)
