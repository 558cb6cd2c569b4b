"""The sentinel as its settings make it: where it looks for the duty lease, its yardsticks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ironclaw.contracts.kit.lease import FileLease, FileLeases, LeaseHolder, RedisLease
from ironclaw.sentinel.app import create_sentinel
from ironclaw.sentinel.config import Settings


def test_the_sentinel_looks_for_the_duty_lease_where_the_broker_is(
    tmp_path: Path, redis_db_url: str
) -> None:
    on_redis = create_sentinel(Settings(broker_url=redis_db_url, home=tmp_path))
    on_folder = create_sentinel(Settings(broker_url=f"filesystem:///{tmp_path}/b", home=tmp_path))

    assert isinstance(on_redis.duty_lease, RedisLease)
    assert isinstance(on_redis.lease, RedisLease)
    assert isinstance(on_folder.duty_lease, FileLease)
    assert on_redis.alerter is None
    with pytest.raises(ValueError, match="IRONCLAW_BROKER_URL is not set"):
        create_sentinel(Settings(broker_url=None, home=tmp_path))


def test_in_dev_the_sentinel_revokes_the_duty_file_lock_in_the_same_home(tmp_path: Path) -> None:
    officer = FileLeases(tmp_path, holder="duty-a:1").lease("duty")
    assert officer.acquire()
    sentinel = create_sentinel(
        Settings(broker_url=f"filesystem:///{tmp_path}/broker", home=tmp_path),
        holder="sentinel:1",
    )

    assert sentinel.duty_lease.holder() == LeaseHolder("duty-a:1", 1)
    assert sentinel.duty_lease.revoke("duty-a:1", fence=1)
    assert not officer.acquire()  # it lets the lock go at its next round
    standby = FileLeases(tmp_path, holder="duty-b:2").lease("duty")
    assert standby.acquire()
    assert standby.fence == 2


def test_the_duty_officer_is_stale_after_two_of_its_intervals_and_the_slack() -> None:
    settings = Settings(duty_patrol_interval_s=30, duty_slack_s=10)

    assert settings.stale_after_s == 70
    assert settings.takeover_within_s == 40
    assert Settings(duty_stale_after_s=5).stale_after_s == 5
    assert Settings(patrol_interval_s=60).stale_after_s == 130  # the fleet's one interval
    assert Settings(alert_webhook_url="").alert_webhook_url is not None
    assert create_sentinel(Settings(broker_url="memory://", alert_webhook_url="")).alerter is None
