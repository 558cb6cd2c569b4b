"""Disabling model profiles that fail in a row: the duty officer's part of profile health.

The ledger keeps each profile's failure streak (its `profiles` projection); the duty officer
reads the profiles at or over the limit that are still enabled (an indexed query) and disables
each with `ProfileDisabled` on `profile-<name>`. Workers refuse Orders on a disabled profile;
an operator enables it again through the gateway.
"""

from __future__ import annotations

import re
from collections import Counter

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import ProfileHealth
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerConflict, LedgerError
from ironclaw.contracts.ids import derived_event_id
from ironclaw.contracts.kit.logging import get_logger

log = get_logger()


def disable_failing_profiles(
    ledger: LedgerClient, saw: Counter[str], *, disable_after: int
) -> list[str]:
    """Disable every enabled profile with `disable_after` or more failures in a row.

    Counts `profiles_failing` (found over the limit) and `profiles_disabled` (disabled after
    the cycle) in `saw`; returns what was done.
    """
    failing = ledger.list_profiles(min_failures=disable_after, disabled=False)
    saw["profiles_failing"] = len(failing)
    done = [f"disabled profile {p.name}" for p in failing if _disable(ledger, p)]
    saw["profiles_disabled"] = len(ledger.list_profiles(disabled=True))
    return done


def _disable(ledger: LedgerClient, profile: ProfileHealth) -> bool:
    """Append `ProfileDisabled` at the version read; False when someone moved it first."""
    if not re.fullmatch(ev.PROFILE_NAME_PATTERN, profile.name):
        log.warning("duty.profile.unnamable", profile=profile.name, why="no stream can carry it")
        return False
    last = f" (last: {profile.last_failure})" if profile.last_failure else ""
    disabled = ev.ProfileDisabled(
        profile=profile.name,
        reason=f"{profile.consecutive_failures} failures in a row{last}",
        consecutive_failures=profile.consecutive_failures,
    )
    event = ev.NewEvent(
        id=derived_event_id("duty", disabled.event_type, profile.name, profile.version),
        type=disabled.event_type,
        data=disabled.model_dump(mode="json"),
        metadata=ev.EventMetadata(actor="duty"),
    )
    try:
        result = ledger.append(
            ev.profile_stream(profile.name), [event], expected_version=profile.version
        )
    except LedgerConflict:
        log.info("duty.profile.moved_on", profile=profile.name)
        return False
    except LedgerError as error:
        if error.status >= 500:
            raise
        log.warning("duty.profile.refused", profile=profile.name, detail=error.detail)
        return False
    if result.duplicate:
        return False
    log.warning("duty.profile.disabled", profile=profile.name, reason=disabled.reason)
    return True
