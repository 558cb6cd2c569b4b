"""Fenced leases on a real Redis and as real file locks: one holder, growing fences, revokes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ironclaw.contracts.kit.lease import (
    FileLease,
    FileLeases,
    Lease,
    LeaseHolder,
    RedisLease,
    RedisLeases,
    leases_for,
)

MakeLease = Callable[..., Lease]


@pytest.fixture(params=["redis", "file"])
def make_lease(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLease]:
    """`make(holder, name="duty", ttl_s=30)`: a lease of `holder` on Redis or under `tmp_path`."""
    stores: list[RedisLeases | FileLeases] = []
    redis_url = request.getfixturevalue("redis_db_url") if request.param == "redis" else None

    def make(holder: str, name: str = "duty", ttl_s: float = 30) -> Lease:
        store = leases_for(redis_url, tmp_path, holder=holder, ttl_s=ttl_s)
        stores.append(store)
        return store.lease(name)

    yield make
    for store in stores:
        store.close()


def test_one_holder_at_a_time_and_a_release_hands_the_lease_on(make_lease: MakeLease) -> None:
    first, second = make_lease("a:1"), make_lease("b:2")

    assert first.acquire()
    assert first.acquire()  # renewed
    assert not second.acquire()
    assert second.fence is None
    first.release()
    assert first.fence is None
    assert second.acquire()
    assert not first.acquire()


def test_each_fresh_take_has_a_higher_fence_and_a_renewal_keeps_it(make_lease: MakeLease) -> None:
    first, second = make_lease("a:1"), make_lease("b:2")

    assert first.acquire()
    taken = first.fence
    assert taken is not None
    assert first.acquire()
    assert first.fence == taken
    first.release()
    assert second.acquire()
    assert second.fence == taken + 1
    second.release()
    assert first.acquire()
    assert first.fence == taken + 2


def test_holder_names_who_holds_the_lease_under_which_fence(make_lease: MakeLease) -> None:
    holder, watcher = make_lease("a:1"), make_lease("sentinel:9")

    assert watcher.holder() is None
    assert holder.acquire()
    assert watcher.holder() == LeaseHolder(holder="a:1", fence=holder.fence or 0)
    holder.release()
    assert watcher.holder() is None


def test_revoke_breaks_only_the_tenure_it_names_and_the_next_take_is_fenced_higher(
    make_lease: MakeLease,
) -> None:
    old, standby, watcher = make_lease("a:1"), make_lease("b:2"), make_lease("sentinel:9")
    assert old.acquire()
    fence = old.fence
    assert fence is not None

    assert not watcher.revoke("b:2")  # not the holder
    assert not watcher.revoke("a:1", fence=fence + 1)  # not its tenure
    assert watcher.holder() == LeaseHolder("a:1", fence)
    assert watcher.revoke("a:1", fence=fence)
    assert not watcher.revoke("a:1", fence=fence)  # already gone: nothing more to break

    # A file lock is let go by its holder (at its next round), a Redis key at once.
    assert not old.acquire()
    assert old.fence is None
    assert standby.acquire()
    assert standby.fence == fence + 1
    assert not old.acquire()
    assert watcher.holder() == LeaseHolder("b:2", fence + 1)


def test_a_revoked_holder_sits_out_a_round_then_may_start_a_new_tenure(
    make_lease: MakeLease,
) -> None:
    holder, watcher = make_lease("a:1"), make_lease("sentinel:9")
    assert holder.acquire()
    fence = holder.fence
    assert fence is not None
    assert watcher.revoke("a:1")

    assert not holder.acquire()  # its tenure is over, whether or not someone else took it
    assert holder.acquire()
    assert holder.fence == fence + 1


def test_a_redis_lease_left_unrenewed_expires_and_its_holder_learns_it(redis_db_url: str) -> None:
    gone = RedisLeases(redis_db_url, holder="a:1", ttl_s=0.3).lease("duty")
    standby = RedisLeases(redis_db_url, holder="b:2", ttl_s=0.3).lease("duty")
    assert isinstance(gone, RedisLease)
    assert gone.acquire()

    deadline = time.monotonic() + 5
    while not standby.acquire():
        assert time.monotonic() < deadline, "the standby never took the expired lease"
        time.sleep(0.05)

    assert standby.fence == (gone.fence or 0) + 1
    assert not gone.acquire()


def test_a_file_lease_dies_with_its_process(tmp_path: Path) -> None:
    holding = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from ironclaw.contracts.kit.lease import FileLease\n"
        "lease = FileLease(Path(sys.argv[1]), name='duty', holder='dead:1')\n"
        "assert lease.acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holding, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        standby = FileLease(tmp_path, name="duty", holder="b:2")
        assert standby.holder() == LeaseHolder("dead:1", 1)
        assert not standby.acquire()
    finally:
        process.kill()
        process.wait()

    assert standby.holder() is None
    assert standby.acquire()
    assert standby.fence == 2


def test_the_leases_live_where_the_broker_is(tmp_path: Path, redis_db_url: str) -> None:
    on_redis = leases_for(redis_db_url, tmp_path, holder="a:1", ttl_s=5)
    on_folder = leases_for(f"filesystem:///{tmp_path}/broker", tmp_path, holder="a:1", ttl_s=5)

    assert isinstance(on_redis.lease("duty"), RedisLease)
    assert isinstance(on_folder.lease("duty"), FileLease)
    assert isinstance(leases_for(None, tmp_path, holder="a:1", ttl_s=5).lease("x"), FileLease)
    on_redis.close()
