"""Who is calling: the API key a request presents, known only by its fingerprint."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """The identity rate limits and idempotency keys are counted under: never the key itself."""

    name: str


def fingerprint(key: str) -> str:
    """A short, stable, non-reversible name for an API key, safe for logs and Redis keys."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class ApiKeys:
    """The configured API keys; with none configured, every caller is let in by address."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = [(key.encode(), fingerprint(key)) for key in keys]

    @property
    def enforced(self) -> bool:
        return bool(self._keys)

    def caller_for(self, authorization: str | None, client_address: str | None) -> Caller | None:
        """The caller an `Authorization` header proves, or None when it proves nobody."""
        if not self.enforced:
            return Caller(f"ip:{client_address or 'unknown'}")
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        candidate = presented.strip().encode()
        match = None
        for key, name in self._keys:  # compare with every key, so timing tells nothing
            if hmac.compare_digest(candidate, key):
                match = name
        return Caller(f"key:{match}") if match else None
