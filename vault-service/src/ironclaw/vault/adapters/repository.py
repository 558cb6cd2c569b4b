"""A theater's bare git repository on disk, and the git commands the vault runs on it."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ironclaw.contracts.kit.git import GitError, git

ORDER_FILES = ".ironclaw/"
# Transports a theater may be cloned over (`ext::` and friends run commands, so never those),
# and a clone that stalls or would ask for a password fails instead of hanging the request.
CLONE_ENV = {
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
    "GIT_HTTP_LOW_SPEED_LIMIT": "1000",
    "GIT_HTTP_LOW_SPEED_TIME": "60",
}
DEFAULT_SSH_COMMAND = "ssh -o BatchMode=yes -o ConnectTimeout=30"


@dataclass(frozen=True)
class LinkedWorktree:
    """One entry of `git worktree list`: where it is and which branch it has checked out."""

    path: Path
    branch: str | None
    head: str | None


@dataclass(frozen=True)
class BareRepository:
    """A bare repository at `path`: the theater's refs, objects and linked worktrees."""

    path: Path

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file() and (self.path / "objects").is_dir()

    def git(self, *args: str, check: bool = True) -> str:
        """Run git on this repository; never on one found above it when this one is missing."""
        return git(self.path, *args, check=check, env={"GIT_DIR": str(self.path)})

    def commit_of(self, ref: str) -> str | None:
        """The commit `ref` names, or None when it names none (refs starting `-` name none)."""
        if not ref or ref.startswith("-") or not self.exists():
            return None
        found = self.git(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{ref}^{{commit}}",
            check=False,
        )
        return found or None

    def branch_head(self, branch: str) -> str | None:
        """The commit branch `branch` points at, or None when there is no such branch."""
        return self.commit_of(f"refs/heads/{branch}")

    def is_ancestor(self, commit: str, ref: str) -> bool:
        """Whether `commit` is in the history of `ref`."""
        try:
            self.git("merge-base", "--is-ancestor", commit, ref)
        except GitError as error:
            if error.returncode == 1:
                return False
            raise
        return True

    def exclude_order_files(self) -> None:
        """List `.ironclaw/` in `info/exclude`, so order files never get committed."""
        exclude = self.path / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        current = exclude.read_text() if exclude.exists() else ""
        if ORDER_FILES not in current.splitlines():
            separator = "" if not current or current.endswith("\n") else "\n"
            exclude.write_text(f"{current}{separator}{ORDER_FILES}\n")

    def worktrees(self) -> list[LinkedWorktree]:
        """The linked worktrees git knows (the bare repository itself left out)."""
        listing = self.git("worktree", "list", "--porcelain")
        found: list[LinkedWorktree] = []
        for block in listing.split("\n\n"):
            fields = dict(line.partition(" ")[::2] for line in block.splitlines() if line)
            if "worktree" not in fields or "bare" in fields:
                continue
            branch = fields.get("branch")
            found.append(
                LinkedWorktree(
                    path=Path(fields["worktree"]),
                    branch=branch.removeprefix("refs/heads/") if branch else None,
                    head=fields.get("HEAD"),
                )
            )
        return found

    def worktree_at(self, path: Path) -> LinkedWorktree | None:
        return next((w for w in self.worktrees() if w.path == path), None)

    def add_worktree(self, path: Path, branch: str, start: str) -> None:
        """A new worktree at `path` on a new branch `branch` starting at commit `start`."""
        self.git("worktree", "add", "--quiet", "-b", branch, "--", str(path), start)

    def attach_worktree(self, path: Path, branch: str) -> None:
        """A new worktree at `path` on the existing branch `branch`."""
        self.git("worktree", "add", "--quiet", "--", str(path), branch)

    def remove_worktree(self, path: Path) -> None:
        """Remove the worktree at `path` (its changes with it) and forget it."""
        try:
            self.git("worktree", "remove", "--force", "--force", "--", str(path))
        except GitError:
            # Not registered, or its folder half gone: clear what is left, then let prune decide.
            shutil.rmtree(path, ignore_errors=True)
        self.prune_worktrees()

    def prune_worktrees(self) -> None:
        self.git("worktree", "prune")

    def delete_branch(self, branch: str) -> None:
        if self.branch_head(branch) is not None:
            self.git("update-ref", "-d", f"refs/heads/{branch}")


def clone_bare(source: str, destination: Path) -> BareRepository:
    """Clone `source` (a local path or git URL) as a bare repository at `destination`."""
    git(
        destination.parent,
        "clone",
        "--bare",
        "--quiet",
        "--",
        source,
        str(destination),
        env={
            **CLONE_ENV,
            "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", DEFAULT_SSH_COMMAND),
        },
    )
    return BareRepository(destination)


def init_bare_with_initial_commit(destination: Path, branch: str, message: str) -> BareRepository:
    """A new bare repository at `destination` whose `branch` holds one commit of an empty tree."""
    git(
        destination.parent,
        "init",
        "--bare",
        "--quiet",
        f"--initial-branch={branch}",
        str(destination),
    )
    repository = BareRepository(destination)
    empty_tree = repository.git("hash-object", "-t", "tree", "-w", os.devnull)
    commit = repository.git("commit-tree", empty_tree, "-m", message)
    # An empty old value: the branch must not exist yet.
    repository.git("update-ref", f"refs/heads/{branch}", commit, "")
    return repository


def is_valid_branch_name(branch: str) -> bool:
    """Whether `branch` is a branch name git accepts (and not one read as an option)."""
    if not branch or branch.startswith("-"):
        return False
    ref = f"refs/heads/{branch}"
    return git(Path.cwd(), "check-ref-format", "--normalize", ref, check=False) == ref
