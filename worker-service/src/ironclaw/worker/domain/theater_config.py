"""What a theater says about its units in `.ironclaw.toml` on its mainline: the tool policy
(`[policy] allow = [...]`) and overrides of model profiles (`[profiles.<name>]`).

Read from the mainline, never from the attempt's worktree: a unit must not widen its own policy
by editing the file. Other sections (`[[gates]]`) belong to integration and are ignored here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ironclaw.contracts.kit.git import GitError, git

CONFIG_FILE = ".ironclaw.toml"
PROGRAM_PATTERN = r"^[A-Za-z0-9_.+-]{1,100}$"


class InvalidTheaterConfig(ValueError):
    """The theater's `.ironclaw.toml` cannot be read: no unit runs under a policy it cannot read."""


class PolicySection(BaseModel):
    """`[policy]`: what `run_command` may start in this theater (None: the worker's list)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: tuple[str, ...] | None = Field(default=None, max_length=200)

    def allowed(self, default: tuple[str, ...]) -> tuple[str, ...]:
        return default if self.allow is None else self.allow


class TheaterConfig(BaseModel):
    """The sections of `.ironclaw.toml` the worker reads."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    policy: PolicySection = Field(default_factory=PolicySection)
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)


def parse_theater_config(text: str) -> TheaterConfig:
    """The worker's part of the text of a `.ironclaw.toml`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidTheaterConfig(f"invalid {CONFIG_FILE}: {error}") from None
    try:
        config = TheaterConfig.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise InvalidTheaterConfig(f"invalid {CONFIG_FILE}: {problems}") from None
    bad = [p for p in config.policy.allow or () if not re.fullmatch(PROGRAM_PATTERN, p)]
    if bad:
        raise InvalidTheaterConfig(
            f"invalid {CONFIG_FILE}: policy.allow names programs, not paths or commands: {bad}"
        )
    return config


def read_theater_config(repository: Path, mainline: str) -> TheaterConfig:
    """The config on the tip of `mainline` in the theater's repository; defaults without one."""
    try:
        listed = git(repository, "ls-tree", "--name-only", mainline, "--", CONFIG_FILE)
    except GitError as error:
        raise InvalidTheaterConfig(f"the theater's mainline cannot be read: {error}") from None
    if not listed:
        return TheaterConfig()
    return parse_theater_config(git(repository, "show", f"{mainline}:{CONFIG_FILE}"))
