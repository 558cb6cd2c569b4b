"""The learning service's internal API: every route declared here needs the internal token."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ironclaw.contracts.kit.auth import internal_token_guard
from ironclaw.learning.config import Settings


def internal_api(settings: Settings) -> APIRouter:
    """The routes other services call, guarded by `IRONCLAW_INTERNAL_TOKEN` when it is set.

    Routes must be added here, before `create_app` includes the router: FastAPI copies routes
    at inclusion.
    """
    return APIRouter(dependencies=[Depends(internal_token_guard(settings.internal_token))])
