"""Running git, and the lock that serialises changes to one theater's repository.

Vault (worktrees), worker (commits) and integration (promotion) all work on theater repositories
on a shared volume; each of them changes a theater's refs only while holding its lock, which is
an `flock` on a file inside the repository, so it holds across processes and containers.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "IronClaw",
    "GIT_AUTHOR_EMAIL": "ironclaw@localhost",
    "GIT_COMMITTER_NAME": "IronClaw",
    "GIT_COMMITTER_EMAIL": "ironclaw@localhost",
}


class GitError(RuntimeError):
    """A git command failed; carries what git printed."""

    def __init__(self, args: list[str], returncode: int, output: str) -> None:
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {output.strip()[-2000:]}")
        self.git_args = list(args)
        self.returncode = returncode
        self.output = output

    def __reduce__(self) -> tuple[type[GitError], tuple[list[str], int, str]]:
        # Rebuilt from its own arguments, so it crosses process boundaries (multiprocessing).
        return (type(self), (self.git_args, self.returncode, self.output))


def git(cwd: Path | str, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    """Run `git <args>` in `cwd` and return its standard output, stripped."""
    merged = {**os.environ, **GIT_IDENTITY, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=merged, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise GitError(list(args), done.returncode, done.stderr or done.stdout)
    return done.stdout.strip()


@contextmanager
def theater_lock(repository: Path) -> Iterator[None]:
    """Hold the theater's lock for the block (blocks until it is free)."""
    lock_path = _git_dir(repository) / "ironclaw.lock"
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _git_dir(repository: Path) -> Path:
    dot_git = repository / ".git"
    return dot_git if dot_git.is_dir() else repository
