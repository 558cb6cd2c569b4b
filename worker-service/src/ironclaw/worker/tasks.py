"""The worker's Celery task: `worker.execute_order` (payload in, domain call, done)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from celery import Celery
from pydantic import ValidationError

from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.logging import add_log_secrets, get_logger
from ironclaw.contracts.kit.secrets import Redactor, environment_secrets, settings_secrets
from ironclaw.contracts.profiles import ModelProfile, load_profiles
from ironclaw.worker.adapters.engines import engine_loader
from ironclaw.worker.adapters.engines.profile_settings import profile_secrets
from ironclaw.worker.adapters.vault import VaultArtifacts, VaultWorktrees
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.execute import execute_order
from ironclaw.worker.domain.ports import AttemptServices


def register_tasks(celery: Celery, settings: Settings) -> None:
    """Register `worker.execute_order` on `celery`; the model profiles are read now (an
    unreadable profiles file stops the worker from starting)."""
    profiles = load_profiles(settings.profiles_file)
    add_log_secrets(profile_secrets(profiles.values(), os.environ))

    @celery.task(name=tasks.EXECUTE_ORDER)  # type: ignore[untyped-decorator]
    def execute_order_task(payload: dict[str, object]) -> str:
        """Claim and run the attempt an `OrderIssued` names; a duplicate delivery drops."""
        try:
            message = tasks.ExecuteOrder.model_validate(payload)
        except ValidationError as error:
            # Redelivery would not fix it: say what was dropped, and drop it.
            get_logger().error(
                "worker.order.invalid_payload", payload=str(payload)[:500], error=str(error)
            )
            return "invalid"
        with attempt_services(settings, profiles) as services:
            return execute_order(message, services)


@contextmanager
def attempt_services(
    settings: Settings, profiles: Mapping[str, ModelProfile] | None = None
) -> Iterator[AttemptServices]:
    """The ledger, vault and engines an attempt uses, closed after it."""
    ledger = LedgerClient(settings.ledger_url, token=settings.internal_token)
    vault = VaultClient(settings.vault_url, token=settings.internal_token)
    try:
        yield AttemptServices(
            ledger=ledger,
            worktrees=VaultWorktrees(vault),
            load_engine=engine_loader(settings),
            worker_id=worker_id(),
            allowed_programs=tuple(settings.tool_allowed_programs),
            heartbeat_interval_s=settings.heartbeat_interval_s,
            engine_grace_s=settings.engine_grace_s,
            profiles=profiles or {},
            artifacts=VaultArtifacts(vault),
            redactor=Redactor(
                [
                    *settings_secrets(settings),
                    *environment_secrets(os.environ),
                    *profile_secrets((profiles or {}).values(), os.environ),
                ]
            ),
        )
    finally:
        ledger.close()
        vault.close()


def worker_id() -> str:
    """`<hostname>:<pid>`: which unit holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}"
