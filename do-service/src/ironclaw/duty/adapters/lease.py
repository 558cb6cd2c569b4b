"""The single-active-DO lease: a Redis key with a TTL, or a file lock under IRONCLAW_HOME."""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import redis

from ironclaw.contracts.kit.celery import REDIS_SCHEMES

LEASE_NAME = "duty"

# Take the key if free, extend it if we hold it; never touch another holder's key.
_TAKE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    """`ironclaw:lease:<name>` holds a random token of its holder and expires after `ttl_s`.

    A holder that stops renewing (it died or hung) loses the lease when the key expires.
    """

    def __init__(self, redis_url: str, *, ttl_s: float, name: str = LEASE_NAME) -> None:
        self._redis = redis.Redis.from_url(redis_url)
        self._key = f"ironclaw:lease:{name}"
        self._token = secrets.token_hex(16)
        self._ttl_ms = max(1, int(ttl_s * 1000))

    @property
    def key(self) -> str:
        return self._key

    def acquire(self) -> bool:
        taken = self._redis.eval(_TAKE_OR_RENEW, 1, self._key, self._token, self._ttl_ms)
        return bool(taken)

    def release(self) -> None:
        self._redis.eval(_RELEASE, 1, self._key, self._token)
        self._redis.close()


class FileLease:
    """An `flock` on `<home>/<name>.lease`, held while this process lives (dev, one host)."""

    def __init__(self, home: Path, *, name: str = LEASE_NAME) -> None:
        self._path = home / f"{name}.lease"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lease_for(broker_url: str | None, home: Path, *, ttl_s: float) -> RedisLease | FileLease:
    """A Redis lease when the broker is Redis, else a file lock under `home`."""
    if broker_url and urlsplit(broker_url).scheme in REDIS_SCHEMES:
        return RedisLease(broker_url, ttl_s=ttl_s)
    return FileLease(home)


def holder_name() -> str:
    """`hostname:pid`, who holds the lease in logs and `PatrolCompleted`."""
    return f"{os.uname().nodename}:{os.getpid()}"
