"""The fleet's thin services as the cross-service tests see them: names, ports, commands, queues."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class Service:
    """One thin service: the name `/health` reports, its default port, commands and queue."""

    name: str
    port: int
    commands: tuple[str, ...]
    queue: str | None = None
    internal_api: bool = False

    @property
    def script(self) -> Path:
        """The console script `ironclaw-<name>`, installed beside this interpreter."""
        return Path(sys.executable).with_name(f"ironclaw-{self.name}")

    def module(self, name: str) -> ModuleType:
        """`ironclaw.<service>.<name>`: `app`, `cli`, `config` or `api`."""
        return importlib.import_module(f"ironclaw.{self.name}.{name}")


SERVICES = (
    Service("gateway", 8000, ("serve", "worker"), queue="gateway"),
    Service("co", 8010, ("worker",), queue="co"),
    Service("vault", 8002, ("serve",), internal_api=True),
    Service("worker", 8011, ("worker",), queue="worker"),
    Service("observer", 8012, ("patrol",)),
    Service("integration", 8013, ("worker",), queue="integration"),
    Service("duty", 8014, ("patrol",)),
    Service("sentinel", 8015, ("patrol",)),
    Service("learning", 8003, ("serve", "worker"), queue="learning", internal_api=True),
)
CONSUMERS = tuple(service for service in SERVICES if service.queue)
PATROLS = tuple(service for service in SERVICES if "patrol" in service.commands)
WITH_INTERNAL_API = tuple(service for service in SERVICES if service.internal_api)


def service_id(service: Service) -> str:
    """The test id of a service's parameter: its name."""
    return service.name
