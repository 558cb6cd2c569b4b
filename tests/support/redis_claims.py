"""Claiming a Redis database for one test (or module) alone, on a server others share.

A test claims a database with SET NX on a claim key in an empty database; afterwards it deletes
what it created there. Other runs of the suite on the same server never see its data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import redis

CLAIM_KEY = "ironclaw-test:claimed-by"
CANDIDATES = range(15, 0, -1)


def with_database(redis_url: str, db: int) -> str:
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{db}"))


@contextmanager
def claimed_redis_database(redis_url: str, candidates: range = CANDIDATES) -> Iterator[str | None]:
    """The URL of an empty database the caller alone uses; None when every candidate is taken."""
    token = uuid.uuid4().hex
    for db in candidates:
        url = with_database(redis_url, db)
        with redis.Redis.from_url(url) as client:
            if not client.set(CLAIM_KEY, token, nx=True, ex=1800):
                continue
            if client.dbsize() != 1:
                client.delete(CLAIM_KEY)  # someone else keeps data here: leave it alone
                continue
            try:
                yield url
            finally:
                if client.get(CLAIM_KEY) == token.encode():
                    created = [key for key in client.scan_iter() if key != CLAIM_KEY.encode()]
                    if created:
                        client.delete(*created)
                    client.delete(CLAIM_KEY)
            return
    yield None
