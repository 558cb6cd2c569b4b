"""The vault service's internal API: every route declared here needs the internal token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.api import (
    ArtifactView,
    TheaterCreate,
    TheaterView,
    WorktreeRequest,
    WorktreeView,
)
from ironclaw.contracts.kit.auth import internal_token_guard
from ironclaw.vault.config import Settings
from ironclaw.vault.domain.artifacts import ArtifactStore
from ironclaw.vault.domain.layout import VaultLayout
from ironclaw.vault.domain.theaters import Theaters
from ironclaw.vault.domain.worktrees import create_worktree, remove_worktree

Attempt = Annotated[int, Path(ge=1)]


def internal_api(settings: Settings) -> APIRouter:
    """The routes other services call, guarded by `IRONCLAW_INTERNAL_TOKEN` when it is set.

    Routes must be added here, before `create_app` includes the router: FastAPI copies routes
    at inclusion.
    """
    return APIRouter(dependencies=[Depends(internal_token_guard(settings.internal_token))])


def vault_api(
    settings: Settings, layout: VaultLayout, theaters: Theaters, artifacts: ArtifactStore
) -> APIRouter:
    """The vault's routes on the guarded router: theaters, worktrees and artifacts."""
    router = internal_api(settings)
    _theater_routes(router, theaters)
    _worktree_routes(router, layout, theaters)
    _artifact_routes(router, artifacts)
    return router


def _theater_routes(router: APIRouter, theaters: Theaters) -> None:
    @router.post("/theaters", status_code=201, tags=["theaters"])
    def register_theater(body: TheaterCreate) -> TheaterView:
        """Clone a local path or git URL bare as a new theater (409 if the name is taken)."""
        return theaters.register(body)

    @router.get("/theaters", tags=["theaters"])
    def list_theaters() -> list[TheaterView]:
        return theaters.list()

    @router.get("/theaters/{name}", tags=["theaters"])
    def get_theater(name: str) -> TheaterView:
        """The theater, its mainline head read live from its repository."""
        return theaters.get(name)

    @router.post("/theaters/{name}/ensure", tags=["theaters"])
    def ensure_theater(name: str) -> TheaterView:
        """The `default` theater, created on first use (an empty repository, one commit)."""
        return theaters.ensure(name)


def _worktree_routes(router: APIRouter, layout: VaultLayout, theaters: Theaters) -> None:
    @router.post(
        "/worktrees",
        status_code=201,
        tags=["worktrees"],
        responses={200: {"model": WorktreeView, "description": "the attempt's worktree existed"}},
    )
    def create_attempt_worktree(body: WorktreeRequest, response: Response) -> WorktreeView:
        """A worktree for one attempt; 200 with the same worktree when it already exists."""
        outcome = create_worktree(layout, theaters.locate(body.theater), body)
        if not outcome.created:
            response.status_code = 200
        return outcome.view

    @router.delete("/worktrees/{order_id}/{attempt}", status_code=204, tags=["worktrees"])
    def remove_attempt_worktree(order_id: str, attempt: Attempt, archive: bool = True) -> Response:
        """Remove the worktree; `archive=true` keeps its branch, `false` deletes it."""
        remove_worktree(layout, order_id, attempt, archive=archive)
        return Response(status_code=204)


def _artifact_routes(router: APIRouter, artifacts: ArtifactStore) -> None:
    @router.post("/artifacts", status_code=201, tags=["artifacts"])
    async def store_artifact(
        request: Request, name: Annotated[str, Query(min_length=1, max_length=255)]
    ) -> ArtifactView:
        """Store the raw request body (413 above the size limit)."""
        length = request.headers.get("content-length")
        declared = int(length) if length and length.isdigit() else None
        upload = await run_in_threadpool(artifacts.upload, name, declared)
        with upload:
            async for chunk in request.stream():
                await run_in_threadpool(upload.write, chunk)
            return await run_in_threadpool(upload.commit)

    @router.get(
        "/artifacts/{artifact_id}",
        tags=["artifacts"],
        response_class=FileResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def read_artifact(artifact_id: str) -> FileResponse:
        """The artifact's bytes."""
        stored = artifacts.find(artifact_id)
        return FileResponse(
            stored.path, media_type="application/octet-stream", filename=stored.name
        )
