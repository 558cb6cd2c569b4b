"""Where the first reply to each `Idempotency-Key` is kept: Redis, or this process's memory.

With a Redis broker (`IRONCLAW_BROKER_URL=redis://…`) every gateway process shares the replies;
otherwise (`make dev`, one gateway process) they live in memory and are lost on restart. A key is
first *reserved* (atomically, `SET NX`), then completed with the reply, so two concurrent
requests with the same key never both do the work.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Final, Protocol

import redis

KEY_PREFIX: Final = "ironclaw:gateway:idempotency:"
_RELEASE_IF_OURS: Final = """
local held = redis.call('get', KEYS[1])
if held and cjson.decode(held)['token'] == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class StoredReply:
    """A response as it was first sent."""

    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class IdempotencyRecord:
    """What is kept under a key: the request's fingerprint, and its reply once there is one."""

    fingerprint: str
    token: str
    reply: StoredReply | None = None

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | bytes) -> IdempotencyRecord:
        data = json.loads(raw)
        reply = StoredReply(**data["reply"]) if data.get("reply") else None
        return cls(fingerprint=data["fingerprint"], token=data["token"], reply=reply)


class IdempotencyStore(Protocol):
    def reserve(
        self, key: str, record: IdempotencyRecord, ttl_s: float
    ) -> IdempotencyRecord | None:
        """Keep `record` under `key` if it is free (None); else the record already there."""

    def complete(self, key: str, record: IdempotencyRecord, ttl_s: float) -> None:
        """Replace the reservation with the finished record."""

    def release(self, key: str, token: str) -> None:
        """Drop the reservation made with `token` (the work failed: the key may be used again)."""

    def close(self) -> None: ...


class MemoryIdempotencyStore:
    """Replies in this process's memory: for a single gateway process (dev)."""

    def __init__(self) -> None:
        self._records: dict[str, tuple[float, IdempotencyRecord]] = {}
        self._lock = threading.Lock()

    def reserve(
        self, key: str, record: IdempotencyRecord, ttl_s: float
    ) -> IdempotencyRecord | None:
        now = time.monotonic()
        with self._lock:
            self._forget_expired(now)
            held = self._records.get(key)
            if held is not None:
                return held[1]
            self._records[key] = (now + ttl_s, record)
            return None

    def complete(self, key: str, record: IdempotencyRecord, ttl_s: float) -> None:
        with self._lock:
            self._records[key] = (time.monotonic() + ttl_s, record)

    def release(self, key: str, token: str) -> None:
        with self._lock:
            held = self._records.get(key)
            if held is not None and held[1].token == token:
                del self._records[key]

    def close(self) -> None:
        return None

    def _forget_expired(self, now: float) -> None:
        expired = [key for key, (expires, _) in self._records.items() if expires <= now]
        for key in expired:
            del self._records[key]


class RedisIdempotencyStore:
    """Replies in Redis, shared by every gateway process."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._release = self._redis.register_script(_RELEASE_IF_OURS)

    def reserve(
        self, key: str, record: IdempotencyRecord, ttl_s: float
    ) -> IdempotencyRecord | None:
        name = KEY_PREFIX + key
        while True:
            if self._redis.set(name, record.dumps(), nx=True, px=_millis(ttl_s)):
                return None
            held = self._redis.get(name)
            if held is not None:
                return IdempotencyRecord.loads(held)
            # It expired between SET and GET: try to reserve it again.

    def complete(self, key: str, record: IdempotencyRecord, ttl_s: float) -> None:
        self._redis.set(KEY_PREFIX + key, record.dumps(), px=_millis(ttl_s))

    def release(self, key: str, token: str) -> None:
        self._release(keys=[KEY_PREFIX + key], args=[token])

    def close(self) -> None:
        self._redis.close()


def _millis(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def idempotency_store(redis_url: str | None) -> IdempotencyStore:
    """Redis when the fleet has it, else memory."""
    return RedisIdempotencyStore(redis_url) if redis_url else MemoryIdempotencyStore()
