"""A typed client for the vault's HTTP API (theaters, worktrees, artifacts)."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from ironclaw.contracts.api import (
    ArtifactView,
    TheaterCreate,
    TheaterView,
    WorktreeRequest,
    WorktreeView,
)

ViewT = TypeVar("ViewT", bound=BaseModel)


class VaultError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"vault answered {status}: {detail}")
        self.status = status
        self.detail = detail


class VaultClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | str | None = None,
        timeout_s: float = 60.0,
        retry_for_s: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout_s)
        if secret:
            self._http.headers["Authorization"] = f"Bearer {secret}"
        self._retry_for_s = retry_for_s

    def close(self) -> None:
        self._http.close()

    def register_theater(self, theater: TheaterCreate) -> TheaterView:
        return self._call("POST", "/theaters", TheaterView, json=theater.model_dump(mode="json"))

    def ensure_default_theater(self) -> TheaterView:
        """The `default` theater, created (an empty repository, one commit) on first use."""
        return self._call("POST", "/theaters/default/ensure", TheaterView)

    def get_theater(self, name: str) -> TheaterView:
        return self._call("GET", f"/theaters/{name}", TheaterView)

    def list_theaters(self) -> list[TheaterView]:
        response = self._send("GET", "/theaters")
        return [TheaterView.model_validate(item) for item in response.json()]

    def create_worktree(self, request: WorktreeRequest) -> WorktreeView:
        """Idempotent: the same order and attempt get the same worktree."""
        return self._call("POST", "/worktrees", WorktreeView, json=request.model_dump(mode="json"))

    def remove_worktree(self, order_id: str, attempt: int, *, archive: bool = True) -> None:
        self._send("DELETE", f"/worktrees/{order_id}/{attempt}", params={"archive": archive})

    def store_artifact(self, name: str, content: bytes) -> ArtifactView:
        return self._call(
            "POST", "/artifacts", ArtifactView, params={"name": name}, content=content
        )

    def read_artifact(self, artifact_id: str) -> bytes:
        return self._send("GET", f"/artifacts/{artifact_id}").content

    def _call(self, method: str, path: str, view: type[ViewT], **kwargs: Any) -> ViewT:
        return view.model_validate(self._send(method, path, **kwargs).json())

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        @retry(
            retry=retry_if_exception_type(httpx.TransportError),
            wait=wait_exponential_jitter(multiplier=0.1, max=2.0, jitter=0.1),
            stop=stop_after_delay(self._retry_for_s),
            reraise=True,
        )
        def send() -> httpx.Response:
            return self._http.request(method, path, **kwargs)

        response = send()
        if response.status_code >= 400:
            try:
                detail = str(response.json().get("detail"))
            except ValueError:
                detail = response.text
            raise VaultError(response.status_code, detail)
        return response
