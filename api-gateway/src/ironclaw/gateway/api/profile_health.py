"""`POST /profiles/{name}/enable`, `GET /profiles/{name}/health`: a model profile's health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import ProfileHealth
from ironclaw.contracts.events import PROFILE_NAME_PATTERN
from ironclaw.gateway.api.deps import CallerDep, GatewayDep, authorize
from ironclaw.gateway.api.idempotent import OnceDep, Reply
from ironclaw.gateway.domain.profile_health import enable_profile, read_profile_health
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

router = APIRouter(tags=["profiles"], dependencies=[Depends(authorize)], responses=OPENAPI_PROBLEMS)
ProfileName = Annotated[str, Path(pattern=PROFILE_NAME_PATTERN)]


@router.get("/profiles/{name}/health")
async def get_profile_health(name: ProfileName, gateway: GatewayDep) -> ProfileHealth:
    """The profile's failure streak, and whether the duty officer disabled it (404 if unknown)."""
    return await run_in_threadpool(read_profile_health, gateway.ledger, name)


@router.post("/profiles/{name}/enable", response_model=ProfileHealth)
async def post_enable(
    name: ProfileName, gateway: GatewayDep, caller: CallerDep, once: OnceDep
) -> JSONResponse:
    """Enable a profile the duty officer disabled; its failure streak starts over. Enabling
    a profile that is not disabled changes nothing. 404 for a profile never seen."""

    async def enable() -> Reply:
        view = await run_in_threadpool(
            lambda: enable_profile(gateway.ledger, name, operator=caller.name)
        )
        return Reply(200, view.model_dump(mode="json"))

    return await once.run(enable)
