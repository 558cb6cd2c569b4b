"""`POST /chat`, `POST /runs`, `GET /runs/{run_id}`, `POST /runs/{run_id}/cancel`."""

from __future__ import annotations

import time
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import model_validator
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import ChatRequest, RunAccepted, RunLinks, RunSubmission, RunView
from ironclaw.contracts.models import RUN_SETTLED, RunStatus, SourceKind
from ironclaw.gateway.api.deps import CallerDep, Gateway, GatewayDep, authorize, request_id
from ironclaw.gateway.api.idempotent import OnceDep, Reply
from ironclaw.gateway.domain.runs import cancel_run, read_run, submit_run
from ironclaw.gateway.domain.submissions import Submission, check_order_graph
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

router = APIRouter(tags=["runs"], dependencies=[Depends(authorize)], responses=OPENAPI_PROBLEMS)

SUBMITTED: dict[int | str, dict[str, Any]] = {
    200: {"model": RunView, "description": "with `wait_s`: the run settled in time"}
}


class StructuredRunSubmission(RunSubmission):
    """`POST /runs`: explicit orders must form a plan (unique keys, known acyclic dependencies)."""

    @model_validator(mode="after")
    def _orders_form_a_plan(self) -> StructuredRunSubmission:
        check_order_graph(self.orders or [])
        return self


def run_links(run_id: str) -> RunLinks:
    return RunLinks(self=f"/runs/{run_id}", events=f"/runs/{run_id}/events")


@router.post("/chat", status_code=202, response_model=RunAccepted, responses=SUBMITTED)
async def post_chat(
    body: ChatRequest, request: Request, gateway: GatewayDep, once: OnceDep
) -> JSONResponse:
    """Start a Run from a chat message; with `wait_s`, answer `200` with the run if it settles."""
    submission = Submission(
        message=body.message,
        theater=body.theater,
        source=SourceKind.CHAT,
        conversation_id=body.conversation_id,
        profile=body.profile,
        playbook=body.playbook,
        budget=body.budget,
    )
    return await once.run(lambda: submit(gateway, submission, body.wait_s, request_id(request)))


@router.post("/runs", status_code=202, response_model=RunAccepted, responses=SUBMITTED)
async def post_run(
    body: StructuredRunSubmission, request: Request, gateway: GatewayDep, once: OnceDep
) -> JSONResponse:
    """Start a Run; explicit `orders` skip planning and become the plan as given."""
    submission = Submission(
        message=body.message,
        theater=body.theater,
        source=SourceKind.API,
        profile=body.profile,
        orders=list(body.orders or []),
        budget=body.budget,
    )
    return await once.run(lambda: submit(gateway, submission, body.wait_s, request_id(request)))


@router.get("/runs/{run_id}")
async def get_run(run_id: str, gateway: GatewayDep) -> RunView:
    """The run: status, theater, message, orders, response, tokens and cost."""
    return await run_in_threadpool(read_run, gateway.ledger, run_id)


@router.post("/runs/{run_id}/cancel", status_code=202, response_model=RunView)
async def post_cancel(
    run_id: str, gateway: GatewayDep, caller: CallerDep, once: OnceDep
) -> JSONResponse:
    """Cancel the run and its unsettled orders; a settled run is answered as it is."""

    async def cancel() -> Reply:
        view = await run_in_threadpool(cancel_run, gateway.ledger, run_id, requested_by=caller.name)
        return Reply(202, view.model_dump(mode="json"))

    return await once.run(cancel)


async def submit(gateway: Gateway, submission: Submission, wait_s: float, req_id: str) -> Reply:
    """Append the run's `RunReceived`; wait up to `wait_s` for it to settle."""
    run_id = await run_in_threadpool(
        submit_run, gateway.ledger, gateway.vault, submission, request_id=req_id
    )
    location = {"Location": f"/runs/{run_id}"}
    status = RunStatus.RECEIVED
    if wait_s > 0:
        view = await wait_until_settled(gateway, run_id, wait_s)
        if view.status in RUN_SETTLED:
            return Reply(200, view.model_dump(mode="json"), location)
        status = view.status
    accepted = RunAccepted(run_id=run_id, status=status, links=run_links(run_id))
    return Reply(202, accepted.model_dump(mode="json"), location)


async def wait_until_settled(gateway: Gateway, run_id: str, wait_s: float) -> RunView:
    """The run once it settles, or as it is when `wait_s` runs out."""
    deadline = time.monotonic() + wait_s
    while True:
        view = await run_in_threadpool(read_run, gateway.ledger, run_id)
        remaining = deadline - time.monotonic()
        if view.status in RUN_SETTLED or remaining <= 0:
            return view
        await anyio.sleep(min(gateway.settings.run_wait_poll_s, remaining))
