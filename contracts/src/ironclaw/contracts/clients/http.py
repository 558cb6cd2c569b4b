"""What every internal-API client shares: the bearer token, retries of transport failures, and
turning error answers into exceptions."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

ViewT = TypeVar("ViewT", bound=BaseModel)


class ServiceClient:
    """An httpx client for one internal service; subclasses name its error answers."""

    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | str | None = None,
        timeout_s: float = 10.0,
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

    def __enter__(self: ClientT) -> ClientT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, view: type[ViewT], **kwargs: Any) -> ViewT:
        return view.model_validate(self._send(method, path, **kwargs).json())

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send, retrying transport failures with backoff for `retry_for_s`; raise on >= 400."""

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
            self._raise_for(response.status_code, json_or_text(response))
        return response

    def _raise_for(self, status: int, body: Any) -> None:
        """Raise the exception an error answer means; `body` is its JSON, or its text."""
        raise NotImplementedError


ClientT = TypeVar("ClientT", bound=ServiceClient)


def json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def detail_of(body: Any) -> str:
    """The `detail` of a problem document, or the whole body when it is not one."""
    return str(body.get("detail") if isinstance(body, dict) else body)
