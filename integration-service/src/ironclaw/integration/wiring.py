"""The integration service's parts wired together from its settings, for one task at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.secrets import Redactor, environment_secrets, settings_secrets
from ironclaw.integration.adapters.vault import VaultAdapter
from ironclaw.integration.config import Settings
from ironclaw.integration.domain.integration import Integrator
from ironclaw.integration.domain.review import GatePolicy


def gate_policy(settings: Settings) -> GatePolicy:
    return GatePolicy(
        default_timeout_s=settings.gate_timeout_s,
        tail_chars=settings.output_tail_chars,
        max_output_bytes=settings.gate_output_max_bytes,
    )


@contextmanager
def integrator_from(settings: Settings) -> Iterator[Integrator]:
    """An `Integrator` on the ledger and vault of `settings`; their connections closed after."""
    ledger = LedgerClient(settings.ledger_url, token=settings.internal_token)
    vault = VaultClient(
        settings.vault_url, token=settings.internal_token, retry_for_s=settings.vault_retry_s
    )
    try:
        adapter = VaultAdapter(vault)
        yield Integrator(
            ledger,
            artifacts=adapter,
            janitor=adapter,
            policy=gate_policy(settings),
            redactor=Redactor([*settings_secrets(settings), *environment_secrets(os.environ)]),
        )
    finally:
        vault.close()
        ledger.close()
