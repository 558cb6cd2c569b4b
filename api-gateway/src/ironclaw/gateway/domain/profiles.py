"""The model profiles the fleet runs Orders on, as operators may see them: from the garrison's
`config/profiles.toml`, with each one's health from the ledger; never a key."""

from __future__ import annotations

from pathlib import Path

from ironclaw.contracts.api import ProfileHealth, ProfileView
from ironclaw.contracts.clients.ledger import LedgerClient, LedgerNotFound
from ironclaw.contracts.kit.errors import NotFound, ServiceError
from ironclaw.contracts.profiles import InvalidProfiles, ModelProfile, load_profiles


class ProfilesUnreadable(ServiceError):
    """The profiles file is not valid: nothing can be shown from it."""

    status = 500


def list_profiles(profiles_file: Path, ledger: LedgerClient) -> list[ProfileView]:
    """Every configured profile, by name, with its health where the ledger has one."""
    health = {profile.name: profile for profile in ledger.list_profiles()}
    return [_view(p, health.get(name)) for name, p in sorted(_read(profiles_file).items())]


def read_profile(profiles_file: Path, ledger: LedgerClient, name: str) -> ProfileView:
    """One configured profile with its health; `NotFound` when no profile has that name."""
    profile = _read(profiles_file).get(name)
    if profile is None:
        raise NotFound(f"no profile {name!r} is configured")
    try:
        health: ProfileHealth | None = ledger.get_profile(name)
    except LedgerNotFound:
        health = None
    return _view(profile, health)


def _read(profiles_file: Path) -> dict[str, ModelProfile]:
    try:
        return load_profiles(profiles_file)
    except InvalidProfiles as error:
        raise ProfilesUnreadable(str(error)) from None


def _view(profile: ModelProfile, health: ProfileHealth | None) -> ProfileView:
    return ProfileView.model_validate({**profile.public(), "health": health})
