"""Worktrees: one per attempt on its own branch, with the order files, idempotent, removable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.api import WorktreeRequest, WorktreeView
from ironclaw.contracts.ids import new_id
from ironclaw.contracts.kit.git import git

CommitFile = Callable[[Path, str, str], str]
NewRequest = Callable[..., WorktreeRequest]
FilesOutside = Callable[[], set[Path]]


@pytest.fixture
def theater(vault: TestClient) -> dict[str, Any]:
    """The `default` theater, ensured through the API."""
    response = vault.post("/theaters/default/ensure")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def create(vault: TestClient, request: WorktreeRequest) -> tuple[int, dict[str, Any]]:
    response = vault.post("/worktrees", json=request.model_dump(mode="json"))
    return response.status_code, response.json()


def branches(repository: Path) -> set[str]:
    listing = git(repository, "for-each-ref", "--format=%(refname:short)", "refs/heads/ironclaw")
    return set(listing.split())


def test_a_worktree_starts_on_the_attempt_branch_from_the_mainline_with_the_order_files(
    vault: TestClient, home: Path, theater: dict[str, Any], new_request: NewRequest
) -> None:
    request = new_request(attempt=2, state={"progress": 0.25, "note": "begun"})

    status, body = create(vault, request)

    assert status == 201, body
    view = WorktreeView.model_validate(body)
    path = home.resolve() / "worktrees" / "default" / f"{request.order_id}-2"
    assert view == WorktreeView(
        theater="default",
        order_id=request.order_id,
        attempt=2,
        path=str(path),
        branch=f"ironclaw/{request.order_id}/2",
        base_commit=theater["head"],
        repository=theater["path"],
    )
    assert git(path, "rev-parse", "--abbrev-ref", "HEAD") == view.branch
    assert git(path, "rev-parse", "HEAD") == theater["head"]
    assert (path / ".ironclaw" / "task.md").read_text() == request.task_md
    assert json.loads((path / ".ironclaw" / "state.json").read_text()) == request.state
    assert git(path, "status", "--porcelain", "--untracked-files=all") == ""
    assert str(path) in git(Path(theater["path"]), "worktree", "list", "--porcelain")


def test_work_committed_in_a_worktree_lands_on_its_branch_without_the_order_files(
    vault: TestClient, theater: dict[str, Any], new_request: NewRequest, commit: CommitFile
) -> None:
    _, body = create(vault, new_request())
    path = Path(body["path"])
    git(path, "add", "--all")  # .ironclaw/ is excluded, so only the agent's work is added

    made = commit(path, "hello.txt", "hello\n")

    repository = Path(theater["path"])
    assert git(repository, "rev-parse", f"refs/heads/{body['branch']}") == made
    files = git(repository, "ls-tree", "-r", "--name-only", made).split()
    assert files == ["hello.txt"]


def test_asking_again_for_an_attempt_returns_the_same_worktree_untouched(
    vault: TestClient, theater: dict[str, Any], new_request: NewRequest, commit: CommitFile
) -> None:
    request = new_request()
    _, first = create(vault, request)
    path = Path(first["path"])
    (path / ".ironclaw" / "state.json").write_text('{"progress": 0.5}')
    work = commit(path, "work.txt", "work\n")
    repository = Path(theater["path"])
    advance_mainline(repository, theater["head"])

    status, again = create(vault, request)

    assert status == 200
    assert again == first
    assert git(path, "rev-parse", "HEAD") == work
    assert json.loads((path / ".ironclaw" / "state.json").read_text()) == {"progress": 0.5}
    assert len(WorktreeList(repository).paths) == 1


def test_a_worktree_whose_maker_died_before_recording_its_base_still_reports_it(
    vault: TestClient, theater: dict[str, Any], new_request: NewRequest
) -> None:
    request = new_request()
    _, first = create(vault, request)
    admin = Path(theater["path"]) / "worktrees" / Path(first["path"]).name
    (admin / "ironclaw-base").unlink()
    advance_mainline(Path(theater["path"]), theater["head"])

    status, again = create(vault, request)

    assert status == 200
    assert again["base_commit"] == theater["head"]


def test_a_worktree_can_start_from_another_ref(
    vault: TestClient,
    source_repo: Path,
    new_request: NewRequest,
) -> None:
    registered = vault.post("/theaters", json={"name": "project", "source": str(source_repo)})
    assert registered.status_code == 201
    develop = git(source_repo, "rev-parse", "develop")

    status, body = create(vault, new_request(theater="project", start_from="develop"))

    assert status == 201, body
    assert body["base_commit"] == develop
    assert git(Path(body["path"]), "rev-parse", "HEAD") == develop
    assert (Path(body["path"]) / "feature.py").exists()


@pytest.mark.parametrize("start_from", ["no-such-branch", "--orphan", "HEAD~99", ""])
def test_a_start_from_naming_no_commit_is_refused(
    vault: TestClient,
    home: Path,
    theater: dict[str, Any],
    new_request: NewRequest,
    start_from: str,
) -> None:
    status, body = create(vault, new_request(start_from=start_from))

    assert status == 422, body
    assert not (home / "worktrees").exists()
    assert branches(Path(theater["path"])) == set()


def test_removing_with_archive_keeps_the_branch_and_its_commits(
    vault: TestClient, theater: dict[str, Any], new_request: NewRequest, commit: CommitFile
) -> None:
    request = new_request()
    _, body = create(vault, request)
    work = commit(Path(body["path"]), "work.txt", "work\n")

    response = vault.delete(f"/worktrees/{request.order_id}/1", params={"archive": "true"})

    repository = Path(theater["path"])
    assert response.status_code == 204
    assert not Path(body["path"]).exists()
    assert WorktreeList(repository).paths == []
    assert git(repository, "rev-parse", f"refs/heads/{body['branch']}") == work
    assert vault.delete(f"/worktrees/{request.order_id}/1").status_code == 404


def test_an_archived_attempt_asked_for_again_gets_its_branch_back(
    vault: TestClient, theater: dict[str, Any], new_request: NewRequest, commit: CommitFile
) -> None:
    request = new_request()
    _, body = create(vault, request)
    work = commit(Path(body["path"]), "work.txt", "work\n")
    vault.delete(f"/worktrees/{request.order_id}/1")
    advance_mainline(Path(theater["path"]), theater["head"])

    status, again = create(vault, request)

    assert status == 201
    assert again == body
    assert git(Path(again["path"]), "rev-parse", "HEAD") == work


def test_an_archived_rescue_asked_for_again_keeps_its_start(
    vault: TestClient, source_repo: Path, new_request: NewRequest, commit: CommitFile
) -> None:
    vault.post("/theaters", json={"name": "project", "source": str(source_repo)})
    request = new_request(theater="project", start_from="develop")
    _, body = create(vault, request)
    commit(Path(body["path"]), "rescued.txt", "rescued\n")
    vault.delete(f"/worktrees/{request.order_id}/1")

    status, again = create(vault, request)

    assert status == 201
    assert again["base_commit"] == git(source_repo, "rev-parse", "develop") == body["base_commit"]


def test_removing_without_archive_deletes_the_branch(
    vault: TestClient, theater: dict[str, Any], new_request: NewRequest
) -> None:
    request = new_request()
    _, body = create(vault, request)

    response = vault.delete(f"/worktrees/{request.order_id}/1", params={"archive": "false"})

    assert response.status_code == 204
    assert not Path(body["path"]).exists()
    assert branches(Path(theater["path"])) == set()


def test_removing_an_unknown_worktree_is_404(vault: TestClient, theater: dict[str, Any]) -> None:
    assert vault.delete(f"/worktrees/{new_id('ord')}/1").status_code == 404


def test_a_worktree_for_an_unknown_theater_is_404(
    vault: TestClient, home: Path, new_request: NewRequest
) -> None:
    status, _ = create(vault, new_request(theater="nowhere"))

    assert status == 404
    assert not (home / "worktrees").exists()


def test_a_stray_folder_where_the_worktree_belongs_is_replaced(
    vault: TestClient, home: Path, theater: dict[str, Any], new_request: NewRequest
) -> None:
    request = new_request()
    stray = home / "worktrees" / "default" / f"{request.order_id}-1"
    stray.mkdir(parents=True)
    (stray / "junk.txt").write_text("left by a process that died\n")

    status, body = create(vault, request)

    assert status == 201
    assert not (stray / "junk.txt").exists()
    assert git(Path(body["path"]), "rev-parse", "HEAD") == theater["head"]


@pytest.mark.parametrize(
    "changes",
    [
        {"order_id": "../../escape"},
        {"order_id": "/tmp/escape"},
        {"order_id": "ord_../../../../escape"},
        {"order_id": "ord_0123456789abcdefghjkmnpqr/"},
        {"order_id": "run_01hzzzzzzzzzzzzzzzzzzzzzzz"},
        {"run_id": "../run"},
        {"theater": "../escape"},
        {"theater": "/tmp"},
        {"attempt": 0},
    ],
)
def test_hostile_ids_are_refused_and_nothing_is_created(
    vault: TestClient,
    theater: dict[str, Any],
    new_request: NewRequest,
    files_outside_home: FilesOutside,
    home: Path,
    changes: dict[str, Any],
) -> None:
    before = files_outside_home()
    body = new_request().model_dump(mode="json") | changes

    response = vault.post("/worktrees", json=body)

    assert response.status_code == 422, response.text
    assert files_outside_home() == before
    assert not (home / "worktrees").exists()
    assert branches(Path(theater["path"])) == set()


@pytest.mark.parametrize("order_id", ["..", "ord_x", "ord_..%2F..%2Fescape", "%2E%2E"])
def test_hostile_ids_to_remove_are_refused(
    vault: TestClient, theater: dict[str, Any], order_id: str
) -> None:
    response = vault.delete(f"/worktrees/{order_id}/1")

    assert response.status_code in (404, 422)
    assert Path(theater["path"]).exists()


def advance_mainline(repository: Path, head: str) -> str:
    """Move `main` one (empty) commit past `head`, as a promotion would."""
    tree = git(repository, "rev-parse", f"{head}^{{tree}}")
    moved = git(repository, "commit-tree", tree, "-p", head, "-m", "mainline moved")
    git(repository, "update-ref", "refs/heads/main", moved, head)
    return moved


class WorktreeList:
    """`git worktree list --porcelain` of a bare repository, the repository itself left out."""

    def __init__(self, repository: Path) -> None:
        listing = git(repository, "worktree", "list", "--porcelain")
        blocks = [
            dict(line.partition(" ")[::2] for line in b.splitlines()) for b in listing.split("\n\n")
        ]
        self.paths = [Path(b["worktree"]) for b in blocks if "bare" not in b]
