"""The tool policy (ROE): paths stay inside the worktree, programs come from an allow-list,
and commands run without the fleet's secrets in their environment."""

from __future__ import annotations

import shlex
import stat
from collections.abc import Collection, Mapping
from pathlib import Path

PROTECTED_DIRS = frozenset({".git", ".ironclaw"})
"""Never written by a tool: the repository's plumbing, and the order files vault wrote."""

PASSED_VARIABLES = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "USER", "LOGNAME", "TERM", "SHELL"}
)
"""The only variables a command inherits (and `LC_*`): everything else may be a secret."""

COMMAND_ENVIRONMENT = {
    "GIT_TERMINAL_PROMPT": "0",
    # Caches written by tests would otherwise be committed with the attempt's changes.
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTEST_ADDOPTS": "-p no:cacheprovider",
}


class PolicyRefusal(Exception):
    """A tool call the policy refuses; the message is what the model is told."""


def resolve_inside(root: Path, path: str, *, writing: bool = False) -> Path:
    """`path` (relative to `root`, or absolute) resolved, symlinks included, inside `root`."""
    if not isinstance(path, str) or not path.strip():
        raise PolicyRefusal("a path is required")
    if "\x00" in path:
        raise PolicyRefusal("a path must not contain NUL")
    base = root.resolve()
    candidate = Path(path)
    resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if resolved != base and base not in resolved.parents:
        raise PolicyRefusal(f"refused: {path!r} is outside the worktree")
    _refuse_special_files(resolved, path)
    relative = resolved.relative_to(base)
    if writing and (not relative.parts or relative.parts[0] in PROTECTED_DIRS):
        raise PolicyRefusal(
            f"refused: {path!r} may not be written (.git and .ironclaw are off limits)"
        )
    return resolved


def _refuse_special_files(resolved: Path, path: str) -> None:
    """Devices, FIFOs and sockets are refused: reading one can hang or reach the host."""
    try:
        mode = resolved.lstat().st_mode
    except OSError:
        return  # not there (yet): a new file
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise PolicyRefusal(f"refused: {path!r} is a device, FIFO or socket, not a file")


def command_argv(command: object, allowed: Collection[str]) -> list[str]:
    """The argv of `command` (a list, or a string split like a shell would, without one)."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as error:
            raise PolicyRefusal(f"cannot parse the command: {error}") from None
    elif isinstance(command, list) and all(isinstance(arg, str) for arg in command):
        argv = list(command)
    else:
        raise PolicyRefusal("command must be a string or a list of strings")
    if not argv:
        raise PolicyRefusal("the command is empty")
    program = argv[0]
    if "/" in program or program not in allowed:
        raise PolicyRefusal(
            f"refused: program {program!r} is not allowed; allowed programs: "
            f"{', '.join(sorted(allowed)) or '(none)'}"
        )
    if any("\x00" in arg for arg in argv):
        raise PolicyRefusal("arguments must not contain NUL")
    return argv


def scrubbed_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The environment a command gets: a few harmless variables, never the fleet's secrets."""
    passed = {
        name: value
        for name, value in environment.items()
        if name in PASSED_VARIABLES or name.startswith("LC_")
    }
    return {**passed, **COMMAND_ENVIRONMENT}
