"""The git operations of promotion: on the theater's bare repository and an attempt's worktree.

Callers hold the theater's lock (`kit.git.theater_lock`) around anything that moves a ref.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ironclaw.contracts.kit.git import GitError, git

_COMMIT_ID = re.compile(r"^[0-9a-f]{4,64}$")
# A rebase must never wait for an editor that nobody will close.
_NO_EDITOR = {"GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true"}


class TheaterRepository:
    """A theater's bare repository and its mainline branch `refs/heads/<mainline>`."""

    def __init__(self, path: Path, mainline: str) -> None:
        self.path = path
        self.mainline = mainline

    @property
    def mainline_ref(self) -> str:
        return f"refs/heads/{self.mainline}"

    def mainline_head(self) -> str:
        """The commit the mainline points at now."""
        return git(self.path, "rev-parse", "--verify", f"{self.mainline_ref}^{{commit}}")

    def has_commit(self, commit: str) -> bool:
        """Whether `commit` (a full or abbreviated hex id) is a commit in this repository."""
        if not _COMMIT_ID.match(commit):
            return False
        try:
            git(self.path, "cat-file", "-e", f"{commit}^{{commit}}")
        except GitError:
            return False
        return True

    def read_file(self, commit: str, path: str) -> str | None:
        """The text of `path` in `commit`, None when the commit has no such file."""
        try:
            git(self.path, "cat-file", "-e", f"{commit}:{path}")
        except GitError:
            return None
        return git(self.path, "show", f"{commit}:{path}")

    def find_merged(self, order_id: str, attempt: int, since: str | None) -> str | None:
        """The newest mainline commit carrying the attempt's `Order-Id:`/`Attempt:` trailers.

        Looks only at commits after `since` (the attempt's base) when it is known.
        """
        revisions = self.mainline_ref
        if since and self.has_commit(since):
            revisions = f"{since}..{self.mainline_ref}"
        found = git(
            self.path,
            "log",
            "--format=%H",
            "-n",
            "1",
            "--all-match",
            "--extended-regexp",
            f"--grep=^Order-Id: {re.escape(order_id)}$",
            f"--grep=^Attempt: {attempt}$",
            revisions,
            "--",
        )
        return found or None

    def advance_mainline(self, new_head: str, old_head: str) -> bool:
        """Move the mainline from `old_head` to `new_head`; False when it was not at `old_head`."""
        try:
            git(self.path, "update-ref", self.mainline_ref, new_head, old_head)
        except GitError:
            if self.mainline_head() != old_head:
                return False
            raise
        return True


@dataclass(frozen=True)
class RebaseConflict:
    """The attempt's changes do not apply on top of the mainline; what git said about it."""

    output: str


class AttemptWorktree:
    """The worktree an attempt's unit worked in, on the attempt's branch."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.is_dir()

    def head(self) -> str:
        return git(self.path, "rev-parse", "--verify", "HEAD^{commit}")

    def belongs_to(self, repository: TheaterRepository) -> bool:
        """Whether this is a worktree of `repository` (and not of some enclosing repository)."""
        common = Path(git(self.path, "rev-parse", "--path-format=absolute", "--git-common-dir"))
        return common.resolve() == repository.path.resolve()

    def uncommitted_paths(self) -> list[str]:
        """What `git status --porcelain` lists: changes the attempt never committed."""
        status = git(self.path, "status", "--porcelain", "--untracked-files=all")
        return [line for line in status.splitlines() if line.strip()]

    def abort_unfinished_rebase(self) -> bool:
        """Undo a rebase a crashed integrator left half done; True when there was one."""
        if not self._rebase_in_progress():
            return False
        git(self.path, "rebase", "--abort")
        return True

    def rebase_onto(self, commit: str) -> RebaseConflict | None:
        """Replay the branch's own commits on top of `commit`; on a conflict, undo the rebase."""
        try:
            git(self.path, "rebase", commit, env=_NO_EDITOR)
        except GitError as error:
            if not self._rebase_in_progress():
                raise
            conflicted = git(self.path, "diff", "--name-only", "--diff-filter=U", check=False)
            git(self.path, "rebase", "--abort")
            return RebaseConflict(f"{error.output.strip()}\nconflicting paths:\n{conflicted}")
        return None

    def _rebase_in_progress(self) -> bool:
        for state in ("rebase-merge", "rebase-apply"):
            location = Path(git(self.path, "rev-parse", "--git-path", state))
            if not location.is_absolute():
                location = self.path / location
            if location.exists():
                return True
        return False
