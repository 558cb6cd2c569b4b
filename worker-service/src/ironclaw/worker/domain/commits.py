"""Committing what an engine changed in its worktree, with the attempt's trailers."""

from __future__ import annotations

from pathlib import Path

from ironclaw.contracts.kit.git import git, theater_lock

ORDER_FILES = ".ironclaw"
SUBJECT_MAX = 100


class BranchMoved(Exception):
    """The worktree is no longer on the attempt's branch: its work cannot be committed safely."""


def commit_message(key: str, summary: str, *, run_id: str, order_id: str, attempt: int) -> str:
    """`<key>: <summary's first line>`, a blank line, and the `Run-Id/Order-Id/Attempt` trailers."""
    first_line = next((line.strip() for line in summary.splitlines() if line.strip()), "")
    subject = f"{key}: {first_line or 'no summary'}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    return f"{subject}\n\nRun-Id: {run_id}\nOrder-Id: {order_id}\nAttempt: {attempt}\n"


def commit_changes(worktree: Path, *, repository: Path, branch: str, message: str) -> str | None:
    """Commit every change but the order files; the new commit, or None when nothing changed."""
    with theater_lock(repository):
        head = git(worktree, "symbolic-ref", "-q", "HEAD", check=False)
        if head != f"refs/heads/{branch}":
            raise BranchMoved(f"the worktree is on {head or 'a detached HEAD'}, not {branch}")
        git(worktree, "add", "-A", "--", ".")
        staged = _staged(worktree)
        # Vault lists them in info/exclude; should that be missing, they are unstaged here.
        leaked = [path for path in staged if _is_order_file(path)]
        if leaked:
            git(worktree, "rm", "-r", "-q", "--cached", "--", *leaked)
        if len(leaked) == len(staged):
            return None
        subject, _, body = message.partition("\n\n")
        git(
            worktree,
            "-c", "core.hooksPath=/dev/null",
            "commit", "--no-verify", "--quiet", "-m", subject, "-m", body.strip(),
        )  # fmt: skip
        return git(worktree, "rev-parse", "HEAD")


def fork_point(worktree: Path, mainline: str) -> str:
    """Where the worktree's HEAD left the theater's mainline (their merge base)."""
    return git(worktree, "merge-base", "HEAD", f"refs/heads/{mainline}")


def unfold_onto(worktree: Path, *, repository: Path, base: str) -> None:
    """Move the worktree's branch back to `base`, keeping every file as it is: work carried in
    from a rescue becomes the attempt's own uncommitted changes, so the attempt's commit (with
    its trailers) holds all of it and no trailer-less rescue commit reaches the mainline."""
    with theater_lock(repository):
        git(worktree, "reset", "--mixed", "--quiet", base)


def commits_since(worktree: Path, base: str) -> list[str]:
    """The attempt's commits on top of its base, oldest first."""
    return git(worktree, "rev-list", "--reverse", f"{base}..HEAD").split()


def changed_files(worktree: Path, base: str) -> list[str]:
    """The files the attempt's commits changed."""
    output = git(worktree, "diff", "--name-only", "--no-renames", "-z", f"{base}..HEAD")
    return [path for path in output.split("\0") if path]


def _staged(worktree: Path) -> list[str]:
    output = git(worktree, "diff", "--cached", "--name-only", "--no-renames", "-z")
    return [path for path in output.split("\0") if path]


def _is_order_file(path: str) -> bool:
    return path == ORDER_FILES or path.startswith(f"{ORDER_FILES}/")
