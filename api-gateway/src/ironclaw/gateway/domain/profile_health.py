"""Operator actions on a model profile's health: read it, enable a disabled profile again."""

from __future__ import annotations

from ironclaw.contracts.api import ProfileHealth
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict, LedgerNotFound
from ironclaw.contracts.events import ProfileEnabled, profile_stream
from ironclaw.contracts.kit.errors import Conflict, NotFound
from ironclaw.contracts.kit.logging import get_logger


def read_profile_health(ledger: LedgerClient, name: str) -> ProfileHealth:
    """The profile's failure streak and state; `NotFound` for one no Order has settled on."""
    try:
        return ledger.get_profile(name)
    except LedgerNotFound:
        raise NotFound(f"profile {name!r} is unknown: no order has settled on it") from None


def enable_profile(ledger: LedgerClient, name: str, *, operator: str) -> ProfileHealth:
    """Let a disabled profile take Orders again, its failure streak reset; the profile after.

    Idempotent: a profile that is not disabled is answered as it is, and nothing is written.
    `ProfileEnabled` is appended at the version read, so of two concurrent enables one writes.
    """
    profile = read_profile_health(ledger, name)
    if not profile.disabled:
        return profile
    enabled = ProfileEnabled(profile=name, operator=operator)
    try:
        ledger.append(profile_stream(name), [enabled], expected_version=profile.version)
    except LedgerConflict:
        current = read_profile_health(ledger, name)
        if current.disabled:
            raise Conflict(
                f"profile {name!r} changed while it was being enabled; read it and try again"
            ) from None
        return current
    get_logger().info(
        "gateway.profile.enabled", profile=name, operator=operator, was=profile.disabled_reason
    )
    return read_profile_health(ledger, name)
