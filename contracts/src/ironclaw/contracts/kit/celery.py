"""The fleet's Celery settings, and the Celery app each consuming service runs."""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from celery import Celery

REDIS_SCHEMES: Final = ("redis", "rediss")
VISIBILITY_TIMEOUT_S: Final = 7200


def publisher_config(broker_url: str) -> dict[str, object]:
    """What any app putting fleet messages on the broker needs: JSON only, retries at startup."""
    config: dict[str, object] = {
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
    }
    url = urlsplit(broker_url)
    if url.scheme in REDIS_SCHEMES:
        # Redis redelivers a message unacked for this long, so it must outlast the longest task.
        config["broker_transport_options"] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    elif url.scheme == "filesystem":
        config.update(embedded_broker_config(Path(url.path)))
    return config


def embedded_broker_config(folder: Path) -> dict[str, object]:
    """`filesystem:///<folder>`: the `make dev` broker, files in a folder, no server to run."""
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "broker_transport_options": {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
        # Remote control and events broadcast over fanout, which a folder does not carry.
        "worker_enable_remote_control": False,
        "worker_send_task_events": False,
    }


def celery_config(broker_url: str, queue: str) -> dict[str, object]:
    """The fleet's Celery settings: ack after the task ran, one message at a time, JSON only."""
    return {
        **publisher_config(broker_url),
        "task_default_queue": queue,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "result_serializer": "json",
        "task_ignore_result": True,
        "worker_hijack_root_logger": False,
    }


def create_celery_app(name: str, broker_url: str | None, queue: str) -> Celery:
    """A Celery app named `name` consuming `queue`; refuses to start without a broker URL."""
    if not broker_url:
        raise ValueError(
            f"IRONCLAW_BROKER_URL is not set: the {name} worker needs a broker, "
            "e.g. redis://localhost:6379/0"
        )
    celery = Celery(name, broker=broker_url)
    celery.conf.update(celery_config(broker_url, queue))
    return celery
