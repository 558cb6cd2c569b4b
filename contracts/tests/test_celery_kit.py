"""The fleet's Celery settings and the consuming app built from them."""

from __future__ import annotations

import pytest

from ironclaw.contracts.kit.celery import celery_config, create_celery_app, publisher_config


def test_consumers_ack_late_take_one_message_at_a_time_and_speak_json_only() -> None:
    config = celery_config("memory://", "co")

    assert config == {
        "task_default_queue": "co",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
    }


@pytest.mark.parametrize("broker_url", ["redis://127.0.0.1:6379/0", "rediss://:pw@cache:6380/1"])
def test_a_redis_broker_gets_a_visibility_timeout_longer_than_any_task(broker_url: str) -> None:
    assert celery_config(broker_url, "co")["broker_transport_options"] == {
        "visibility_timeout": 7200
    }
    assert publisher_config(broker_url)["broker_transport_options"] == {"visibility_timeout": 7200}


def test_other_brokers_get_no_redis_transport_options() -> None:
    assert "broker_transport_options" not in celery_config("amqp://guest@rabbit//", "co")
    assert "broker_transport_options" not in publisher_config("memory://")


@pytest.mark.parametrize("broker_url", ["memory://", "redis://127.0.0.1:6379/0"])
def test_consumers_accept_what_publishers_send(broker_url: str) -> None:
    published = publisher_config(broker_url)
    consumed = celery_config(broker_url, "worker")

    assert published.items() <= consumed.items()
    assert published["task_serializer"] in consumed["accept_content"]  # type: ignore[operator]


def test_the_app_is_named_after_its_service_and_consumes_its_queue() -> None:
    celery = create_celery_app("learning", "memory://", "learning")

    assert celery.main == "learning"
    assert celery.conf.broker_url == "memory://"
    assert celery.conf.task_default_queue == "learning"
    assert celery.conf.task_acks_late is True


@pytest.mark.parametrize("broker_url", [None, ""])
def test_a_missing_broker_url_is_refused_with_what_to_set(broker_url: str | None) -> None:
    with pytest.raises(ValueError, match=r"IRONCLAW_BROKER_URL is not set: the co worker needs"):
        create_celery_app("co", broker_url, "co")
