"""`GET /profiles`, `GET /profiles/{name}`: the configured model profiles, without secrets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import ProfileView
from ironclaw.contracts.profiles import PROFILE_NAME_PATTERN
from ironclaw.gateway.api.deps import GatewayDep, authorize
from ironclaw.gateway.domain.profiles import list_profiles, read_profile
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

router = APIRouter(tags=["profiles"], dependencies=[Depends(authorize)], responses=OPENAPI_PROBLEMS)
ProfileName = Annotated[str, Path(pattern=PROFILE_NAME_PATTERN)]


@router.get("/profiles")
async def get_profiles(gateway: GatewayDep) -> list[ProfileView]:
    """Every profile in the garrison's `config/profiles.toml`: engine, endpoint, model, prices,
    task types, tool level, budgets, the variable naming its key (never the key), and its
    health (failures in a row, disabled) once an Order has settled on it."""
    profiles_file = gateway.settings.profiles_file
    return await run_in_threadpool(list_profiles, profiles_file, gateway.ledger)


@router.get("/profiles/{name}")
async def get_profile(name: ProfileName, gateway: GatewayDep) -> ProfileView:
    """One configured profile with its health (404 if none has that name)."""
    profiles_file = gateway.settings.profiles_file
    return await run_in_threadpool(read_profile, profiles_file, gateway.ledger, name)
