"""Engines are plugins: entry point group `ironclaw.engines`, each a factory of the settings."""

from __future__ import annotations

import os
from importlib.metadata import EntryPoint, entry_points

from ironclaw.contracts.profiles import ModelProfile
from ironclaw.worker.adapters.engines.profile_settings import settings_for_profile
from ironclaw.worker.config import Settings
from ironclaw.worker.domain.engine import Engine, EngineLoader, EngineUnavailable

ENGINE_GROUP = "ironclaw.engines"


def installed_engines() -> dict[str, EntryPoint]:
    """The engines installed in this environment, by name."""
    return {entry.name: entry for entry in entry_points(group=ENGINE_GROUP)}


def engine_loader(settings: Settings) -> EngineLoader:
    """Loads an engine by name from the entry points, built from `settings` as the Order's
    model profile changes them."""

    def load(name: str, profile: ModelProfile | None = None) -> Engine:
        found = installed_engines()
        if name not in found:
            installed = ", ".join(sorted(found)) or "(none)"
            raise EngineUnavailable(f"unknown engine {name}; installed: {installed}")
        try:
            factory = found[name].load()
        except Exception as error:  # a broken plugin fails the attempt, not the worker
            raise EngineUnavailable(f"engine {name} could not be loaded: {error!r}") from error
        configured = settings
        if profile is not None:
            configured = settings_for_profile(settings, profile, os.environ)
        engine: Engine = factory(configured)
        return engine

    return load
