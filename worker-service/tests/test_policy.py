"""The tool policy: paths inside the worktree, allow-listed programs, a scrubbed environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ironclaw.worker.domain.policy import (
    PolicyRefusal,
    command_argv,
    resolve_inside,
    scrubbed_environment,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    worktree = tmp_path / "worktree"
    (worktree / "src").mkdir(parents=True)
    (worktree / ".ironclaw").mkdir()
    (worktree / ".git").write_text("gitdir: /elsewhere\n")
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", worktree / "out-link")
    os.symlink(worktree / "src", worktree / "in-link")
    return worktree


@pytest.mark.parametrize("path", ["a.txt", "src/new/b.py", "src/../c.txt", "./d", "in-link/e.py"])
def test_paths_inside_the_worktree_resolve(root: Path, path: str) -> None:
    resolved = resolve_inside(root, path, writing=True)
    assert resolved.is_relative_to(root.resolve())


def test_an_absolute_path_inside_the_worktree_is_allowed(root: Path) -> None:
    assert resolve_inside(root, str(root / "src" / "x.py")) == root.resolve() / "src" / "x.py"


@pytest.mark.parametrize(
    "path",
    ["..", "../x", "src/../../x", "/etc/passwd", "out-link", "out-link/x", "in-link/../../x"],
)
def test_paths_leading_outside_are_refused(root: Path, path: str) -> None:
    with pytest.raises(PolicyRefusal, match="outside the worktree"):
        resolve_inside(root, path)


@pytest.mark.parametrize("path", [".", ".git", ".ironclaw/task.md", "src/../.ironclaw/x"])
def test_the_root_git_and_order_files_are_never_written(root: Path, path: str) -> None:
    with pytest.raises(PolicyRefusal, match="may not be written"):
        resolve_inside(root, path, writing=True)
    resolve_inside(root, path)  # reading is fine


@pytest.mark.parametrize("path", ["", "   ", "a\x00b"])
def test_empty_or_nul_paths_are_refused(root: Path, path: str) -> None:
    with pytest.raises(PolicyRefusal):
        resolve_inside(root, path)


def test_commands_are_split_without_a_shell() -> None:
    allowed = {"python", "echo"}
    assert command_argv("echo 'a b' c", allowed) == ["echo", "a b", "c"]
    assert command_argv(["python", "-c", "print(1)"], allowed) == ["python", "-c", "print(1)"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("rm -rf /", "program 'rm' is not allowed"),
        (["/usr/bin/python", "x"], "program '/usr/bin/python' is not allowed"),
        ("./python", "program './python' is not allowed"),
        ("", "empty"),
        ([], "empty"),
        ("echo 'unbalanced", "cannot parse"),
        ({"argv": ["echo"]}, "string or a list of strings"),
        (["echo", 3], "string or a list of strings"),
    ],
)
def test_commands_off_the_allow_list_are_refused(command: object, message: str) -> None:
    with pytest.raises(PolicyRefusal, match=message):
        command_argv(command, {"python", "echo"})


def test_the_environment_keeps_no_secrets() -> None:
    environment = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "IRONCLAW_INTERNAL_TOKEN": "t",
        "IRONCLAW_LLM_API_KEY": "k",
        "OPENAI_API_KEY": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "GITHUB_TOKEN": "g",
        "DATABASE_URL": "postgresql://u:p@h/db",
    }
    scrubbed = scrubbed_environment(environment)
    assert scrubbed == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LC_ALL": "C.UTF-8",
        "GIT_TERMINAL_PROMPT": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_ADDOPTS": "-p no:cacheprovider",
    }


def test_fifos_inside_the_worktree_are_refused(root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(PolicyRefusal, match="device, FIFO or socket"):
        resolve_inside(root, "pipe")
