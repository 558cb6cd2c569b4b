"""Fenced single-active leases: one holder per name (`duty`, `observer-<theater>`, `sentinel`).

Each fresh take of a lease increments the name's fence, so every tenure has a number higher
than the last one's; a holder records its fence with what it writes, and the ledger shows who
acted under which tenure. A watcher may read who holds a lease and revoke it, but only from the
holder it judged (compare-and-delete). A holder whose tenure ended (revoked, or expired) gets
False from its next `acquire()`; later it may start a new tenure, under a higher fence, if the
lease is free by then.

On Redis a lease is a hash `ironclaw:lease:{<name>}` (token, holder, fence) with a TTL, and its
fence a counter `ironclaw:lease:{<name>}:fence` that never expires (a flushed Redis starts the
fences again at 1). Without Redis (`make dev`, one host) it is an `flock` under IRONCLAW_HOME,
see `FileLease`.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlsplit

import redis

from ironclaw.contracts.kit.celery import REDIS_SCHEMES

DUTY_LEASE = "duty"
SENTINEL_LEASE = "sentinel"


def observer_lease(theater: str) -> str:
    """The lease of the observer patrolling `theater`."""
    return f"observer-{theater}"


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, and the fence of their tenure."""

    holder: str
    fence: int


class Lease(Protocol):
    """A lease only one process holds at a time, under a fence that grows with each tenure."""

    @property
    def name(self) -> str: ...

    @property
    def fence(self) -> int | None:
        """The fence of this process's tenure, or None while it does not hold the lease."""
        ...

    def acquire(self) -> bool:
        """Take the lease if free or renew it if held; False while another process holds it."""
        ...

    def release(self) -> None:
        """Give the lease up if this process holds it, so another may take it at once."""
        ...

    def holder(self) -> LeaseHolder | None:
        """Who holds the lease now, whoever that is; None when nobody does."""
        ...

    def revoke(self, expected_holder: str, *, fence: int | None = None) -> bool:
        """Break the lease if `expected_holder` (at `fence`, if given) still holds it."""
        ...


# Renew our own tenure; else, unless we only came to renew one that has ended, take a free
# lease under the next fence; never touch another's.
_TAKE_OR_RENEW = """
local token = redis.call('HGET', KEYS[1], 'token')
if token == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'fence'))
end
if token or ARGV[4] == '1' then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'holder', ARGV[3], 'fence', fence)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return fence
"""
_RELEASE = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REVOKE = """
local held = redis.call('HMGET', KEYS[1], 'holder', 'fence')
if held[1] ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' and held[2] ~= ARGV[2] then return 0 end
return redis.call('DEL', KEYS[1])
"""


class RedisLease:
    """A lease held by renewing its key before `ttl_s` runs out; an unrenewed one expires."""

    def __init__(self, client: redis.Redis, *, name: str, holder: str, ttl_s: float) -> None:
        self._redis = client
        self._name = name
        # The hash tag keeps the lease and its fence in one slot of a Redis Cluster.
        self.key = f"ironclaw:lease:{{{name}}}"
        self._fence_key = f"{self.key}:fence"
        self._holder = holder
        self._token = secrets.token_hex(16)
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._fence: int | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def fence(self) -> int | None:
        return self._fence

    def acquire(self) -> bool:
        renew_only = "1" if self._fence is not None else "0"
        arguments = (self._token, self._ttl_ms, self._holder, renew_only)
        fence = int(self._redis.eval(_TAKE_OR_RENEW, 2, self.key, self._fence_key, *arguments))
        self._fence = fence or None
        return self._fence is not None

    def release(self) -> None:
        self._redis.eval(_RELEASE, 1, self.key, self._token)
        self._fence = None

    def holder(self) -> LeaseHolder | None:
        holder, fence = self._redis.hmget(self.key, ["holder", "fence"])
        if holder is None or fence is None:
            return None
        name = holder.decode() if isinstance(holder, bytes) else str(holder)
        return LeaseHolder(holder=name, fence=int(fence))

    def revoke(self, expected_holder: str, *, fence: int | None = None) -> bool:
        expected_fence = "" if fence is None else str(fence)
        revoked = self._redis.eval(_REVOKE, 1, self.key, expected_holder, expected_fence)
        return bool(revoked)


class FileLease:
    """An `flock` on `<home>/<name>.lease`, held while its process lives (one host, no Redis).

    Beside it, `<name>.fence` counts the tenures and `<name>.holder` names the current one; both
    are read and written under a short lock on `<name>.lease.lock`. A revoke deletes the holder
    file: the holder sees that at its next `acquire()` and lets the lock go. A hung holder keeps
    its lock until it wakes, which only Redis leases (with their TTL) get around.
    """

    def __init__(self, home: Path, *, name: str, holder: str) -> None:
        self._home = home
        self._name = name
        self._holder = holder
        self._path = home / f"{name}.lease"
        self._fence_path = home / f"{name}.fence"
        self._holder_path = home / f"{name}.holder"
        self._file: IO[str] | None = None
        self._fence: int | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def fence(self) -> int | None:
        return self._fence

    def acquire(self) -> bool:
        if self._file is not None:
            with self._guard():
                if self._read_holder() == LeaseHolder(self._holder, self._fence or 0):
                    return True
            self._unlock()  # revoked: this tenure is over, another may take the lease
            return False
        self._home.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        with self._guard():
            fence = self._read_fence() + 1
            _write(self._fence_path, str(fence))
            _write(self._holder_path, json.dumps({"holder": self._holder, "fence": fence}))
        self._file, self._fence = handle, fence
        return True

    def release(self) -> None:
        if self._file is None:
            return
        with self._guard():
            if self._read_holder() == LeaseHolder(self._holder, self._fence or 0):
                self._holder_path.unlink(missing_ok=True)
        self._unlock()

    def holder(self) -> LeaseHolder | None:
        with self._guard():
            current = self._read_holder()
            if current is None or self._file is not None or not self._lock_is_free():
                return current
        return None  # its process died: the kernel let its lock go

    def revoke(self, expected_holder: str, *, fence: int | None = None) -> bool:
        with self._guard():
            current = self._read_holder()
            if current is None or current.holder != expected_holder:
                return False
            if fence is not None and current.fence != fence:
                return False
            self._holder_path.unlink(missing_ok=True)
            return True

    @contextmanager
    def _guard(self) -> Iterator[None]:
        self._home.mkdir(parents=True, exist_ok=True)
        with (self._home / f"{self._name}.lease.lock").open("a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            yield

    def _read_fence(self) -> int:
        try:
            return int(self._fence_path.read_text() or 0)
        except FileNotFoundError:
            return 0

    def _read_holder(self) -> LeaseHolder | None:
        try:
            state = json.loads(self._holder_path.read_text())
        except FileNotFoundError:
            return None
        return LeaseHolder(holder=str(state["holder"]), fence=int(state["fence"]))

    def _lock_is_free(self) -> bool:
        with self._path.open("a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe, fcntl.LOCK_UN)
            return True

    def _unlock(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
        self._file, self._fence = None, None


def _write(path: Path, text: str) -> None:
    """Replace `path`'s content at once, so a reader never sees half of it."""
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)


class RedisLeases:
    """The leases of one process on one Redis, sharing its connections."""

    def __init__(self, redis_url: str, *, holder: str, ttl_s: float) -> None:
        self._redis = redis.Redis.from_url(redis_url)
        self._holder = holder
        self._ttl_s = ttl_s

    def lease(self, name: str, *, ttl_s: float | None = None) -> RedisLease:
        """The lease `name`, held for `ttl_s` (the store's default) past each renewal."""
        ttl = self._ttl_s if ttl_s is None else ttl_s
        return RedisLease(self._redis, name=name, holder=self._holder, ttl_s=ttl)

    def close(self) -> None:
        self._redis.close()


class FileLeases:
    """The leases of one process as file locks under `home` (one host, no Redis)."""

    def __init__(self, home: Path, *, holder: str) -> None:
        self._home = home
        self._holder = holder

    def lease(self, name: str, *, ttl_s: float | None = None) -> FileLease:
        """The lease `name`; a file lock lasts while its process does, so `ttl_s` is unused."""
        return FileLease(self._home, name=name, holder=self._holder)

    def close(self) -> None:
        """Nothing to close: each lease's lock goes with its `release()` or its process."""


def leases_for(
    broker_url: str | None, home: Path, *, holder: str, ttl_s: float
) -> RedisLeases | FileLeases:
    """Redis leases when the broker is Redis, else file locks under `home`."""
    if broker_url and urlsplit(broker_url).scheme in REDIS_SCHEMES:
        return RedisLeases(broker_url, holder=holder, ttl_s=ttl_s)
    return FileLeases(home, holder=holder)


def holder_name() -> str:
    """`hostname:pid`: who holds a lease, in logs, `holder()` and `PatrolCompleted`."""
    return f"{os.uname().nodename}:{os.getpid()}"
