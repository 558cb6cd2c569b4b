"""Where the vault keeps things under `$IRONCLAW_HOME`, and the checks that keep every id in it.

Every path the vault builds from a caller's name or id goes through here: the name is checked
against a strict pattern first, and the result must still lie inside its folder once resolved,
so no id, name or symlink can lead a write outside `$IRONCLAW_HOME`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ironclaw.contracts.kit.errors import Unprocessable
from ironclaw.contracts.models import THEATER_NAME_PATTERN

ORDER_ID = re.compile(r"^ord_[0-9a-z]{26}$")
RUN_ID = re.compile(r"^run_[0-9a-z]{26}$")
ARTIFACT_ID = re.compile(r"^art_[0-9a-z]{26}$")
THEATER_NAME = re.compile(THEATER_NAME_PATTERN)
DEFAULT_THEATER = "default"


def checked_theater_name(name: str) -> str:
    """`name` if it is a theater name (lowercase letters, digits, `-`, `_`), else 422."""
    if not THEATER_NAME.fullmatch(name):
        raise Unprocessable(
            f"invalid theater name {name!r}: expected {THEATER_NAME_PATTERN}", field="name"
        )
    return name


def checked_order_id(order_id: str) -> str:
    """`order_id` if it has the shape of an order id (`ord_` + 26 characters), else 422."""
    if not ORDER_ID.fullmatch(order_id):
        raise Unprocessable(
            f"invalid order id {order_id!r}: expected ord_ and 26 lowercase letters or digits",
            field="order_id",
        )
    return order_id


def checked_run_id(run_id: str) -> str:
    """`run_id` if it has the shape of a run id (`run_` + 26 characters), else 422."""
    if not RUN_ID.fullmatch(run_id):
        raise Unprocessable(
            f"invalid run id {run_id!r}: expected run_ and 26 lowercase letters or digits",
            field="run_id",
        )
    return run_id


def checked_artifact_id(artifact_id: str) -> str:
    """`artifact_id` if it has the shape of an artifact id (`art_` + 26 characters), else 422."""
    if not ARTIFACT_ID.fullmatch(artifact_id):
        raise Unprocessable(
            f"invalid artifact id {artifact_id!r}: expected art_ and 26 lowercase letters or "
            "digits",
            field="artifact_id",
        )
    return artifact_id


def attempt_branch(order_id: str, attempt: int) -> str:
    """The branch of one attempt: `ironclaw/<order_id>/<attempt>`."""
    return f"ironclaw/{checked_order_id(order_id)}/{checked_attempt(attempt)}"


def checked_attempt(attempt: int) -> int:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise Unprocessable(f"invalid attempt {attempt!r}: expected an integer >= 1")
    return attempt


@dataclass(frozen=True)
class VaultLayout:
    """The vault's folders under one home: `theaters/`, `worktrees/`, `artifacts/`."""

    home: Path

    @classmethod
    def under(cls, home: Path) -> VaultLayout:
        """The layout under `home`, made absolute (relative homes resolve against the cwd)."""
        return cls(home.expanduser().resolve())

    @property
    def theaters(self) -> Path:
        return self.home / "theaters"

    @property
    def worktrees(self) -> Path:
        return self.home / "worktrees"

    @property
    def artifacts(self) -> Path:
        return self.home / "artifacts"

    def theater(self, name: str) -> Path:
        """The bare repository of theater `name`."""
        return _inside(self.theaters, checked_theater_name(name))

    def theater_worktrees(self, name: str) -> Path:
        """The folder holding the worktrees of theater `name`."""
        return _inside(self.worktrees, checked_theater_name(name))

    def worktree(self, theater: str, order_id: str, attempt: int) -> Path:
        """The worktree of one attempt: `worktrees/<theater>/<order_id>-<attempt>`."""
        leaf = f"{checked_order_id(order_id)}-{checked_attempt(attempt)}"
        return _inside(self.theater_worktrees(theater), leaf)

    def artifact(self, artifact_id: str) -> Path:
        return _inside(self.artifacts, checked_artifact_id(artifact_id))


def _inside(folder: Path, leaf: str) -> Path:
    """`folder / leaf`, refused unless it resolves inside `folder` (symlinks included)."""
    path = folder / leaf
    if not path.resolve().is_relative_to(folder.resolve()) or path.parent != folder:
        raise Unprocessable(f"{leaf!r} would lead outside {folder}")
    return path
