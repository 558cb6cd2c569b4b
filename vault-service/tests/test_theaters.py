"""Theaters: the `default` theater on first use, registration from a path or URL, and reads."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ironclaw.contracts.api import TheaterView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.git import git
from ironclaw.vault.adapters.repository import init_bare_with_initial_commit

CommitFile = Callable[[Path, str, str], str]
FilesOutside = Callable[[], set[Path]]

# Each process gets ready, then waits for the go file, so their ensures really overlap.
ENSURE_IN_A_PROCESS = """
import pathlib, sys, time
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.vault.domain.layout import VaultLayout
from ironclaw.vault.domain.theaters import Theaters

home, ledger_url, ready, go = sys.argv[1:]
theaters = Theaters(VaultLayout.under(pathlib.Path(home)), LedgerClient(ledger_url))
pathlib.Path(ready).touch()
deadline = time.monotonic() + 30
while not pathlib.Path(go).exists() and time.monotonic() < deadline:
    time.sleep(0.001)
print(theaters.ensure("default").model_dump_json())
"""


def theater_events(ledger_client: LedgerClient, name: str) -> list[str]:
    return [event.type for event in ledger_client.read_stream(f"theater-{name}").events]


def commits_on(repository: Path, branch: str) -> list[str]:
    return git(repository, "rev-list", f"refs/heads/{branch}").split()


@pytest.mark.every_ledger_backend
def test_the_default_theater_is_created_once_with_one_commit_on_main(
    vault: TestClient, home: Path, ledger_client: LedgerClient
) -> None:
    first = vault.post("/theaters/default/ensure")
    second = vault.post("/theaters/default/ensure")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    view = TheaterView.model_validate(first.json())
    repository = home.resolve() / "theaters" / "default"
    assert view.path == str(repository)
    assert view.mainline == "main"
    assert git(repository, "rev-parse", "--is-bare-repository") == "true"
    assert commits_on(repository, "main") == [view.head]
    assert ".ironclaw/" in (repository / "info" / "exclude").read_text().splitlines()
    assert theater_events(ledger_client, "default") == ["TheaterRegistered"]
    assert ledger_client.get_theater("default").head == view.head


def test_concurrent_ensures_from_several_processes_register_the_default_theater_once(
    home: Path, tmp_path: Path, ledger_url: str, ledger_client: LedgerClient
) -> None:
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{n}" for n in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", ENSURE_IN_A_PROCESS, str(home), ledger_url, str(ready), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ready in readies
    ]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in readies) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outputs = [process.communicate(timeout=60) for process in processes]

    assert [p.returncode for p in processes] == [0, 0, 0], [err for _, err in outputs]
    views = {TheaterView.model_validate_json(out.splitlines()[-1]) for out, _ in outputs}
    assert len(views) == 1
    (view,) = views
    assert commits_on(Path(view.path), "main") == [view.head]
    assert theater_events(ledger_client, "default") == ["TheaterRegistered"]
    assert not [p for p in (home / "theaters").iterdir() if ".staging-" in p.name]


def test_only_the_default_theater_is_created_on_demand(vault: TestClient, home: Path) -> None:
    response = vault.post("/theaters/other/ensure")

    assert response.status_code == 404
    assert not (home / "theaters" / "other").exists()


@pytest.mark.every_ledger_backend
def test_a_theater_registered_from_a_local_path_is_a_bare_clone_with_its_mainline(
    vault: TestClient, home: Path, source_repo: Path, ledger_client: LedgerClient
) -> None:
    response = vault.post(
        "/theaters", json={"name": "project", "source": str(source_repo), "mainline": "main"}
    )

    assert response.status_code == 201, response.text
    view = TheaterView.model_validate(response.json())
    repository = home.resolve() / "theaters" / "project"
    assert view == TheaterView(
        name="project",
        source=str(source_repo),
        mainline="main",
        head=git(source_repo, "rev-parse", "main"),
        path=str(repository),
    )
    assert git(repository, "rev-parse", "--is-bare-repository") == "true"
    assert git(repository, "rev-parse", "refs/heads/develop") == git(
        source_repo, "rev-parse", "develop"
    )
    assert ".ironclaw/" in (repository / "info" / "exclude").read_text().splitlines()
    assert theater_events(ledger_client, "project") == ["TheaterRegistered"]
    assert vault.get("/theaters/project").json() == response.json()
    assert [t["name"] for t in vault.get("/theaters").json()] == ["project"]


def test_a_theater_registered_from_a_file_url_uses_the_branch_named_mainline(
    vault: TestClient, source_repo: Path
) -> None:
    url = source_repo.as_uri()

    response = vault.post(
        "/theaters", json={"name": "by-url", "source": url, "mainline": "develop"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["source"] == url
    assert response.json()["mainline"] == "develop"
    assert response.json()["head"] == git(source_repo, "rev-parse", "develop")


def test_a_missing_mainline_is_refused_and_leaves_nothing(
    vault: TestClient, home: Path, source_repo: Path, ledger_client: LedgerClient
) -> None:
    response = vault.post(
        "/theaters", json={"name": "project", "source": str(source_repo), "mainline": "trunk"}
    )

    assert response.status_code == 422
    assert "trunk" in response.json()["detail"]
    assert [p.name for p in (home / "theaters").iterdir()] == [".project.lock"]
    assert ledger_client.list_theaters() == []


@pytest.mark.every_ledger_backend
def test_a_taken_name_is_refused_with_409_and_the_theater_is_unchanged(
    vault: TestClient, source_repo: Path, tmp_path: Path, commit: CommitFile
) -> None:
    body = {"name": "project", "source": str(source_repo)}
    first = vault.post("/theaters", json=body)
    other = tmp_path / "other"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(other))
    commit(other, "other.txt", "other\n")

    again = vault.post("/theaters", json={"name": "project", "source": str(other)})

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json()["detail"].startswith("theater exists")
    assert vault.get("/theaters/project").json() == first.json()


def test_the_head_is_read_live_from_the_repository(
    vault: TestClient, home: Path, ledger_client: LedgerClient
) -> None:
    ensured = vault.post("/theaters/default/ensure").json()
    repository = Path(ensured["path"])
    tree = git(repository, "rev-parse", f"{ensured['head']}^{{tree}}")
    advanced = git(repository, "commit-tree", tree, "-p", ensured["head"], "-m", "next")
    git(repository, "update-ref", "refs/heads/main", advanced)

    assert vault.get("/theaters/default").json()["head"] == advanced
    assert vault.get("/theaters").json()[0]["head"] == advanced
    assert vault.post("/theaters/default/ensure").json()["head"] == advanced
    assert ledger_client.get_theater("default").head == ensured["head"]


def test_an_unknown_theater_is_404(vault: TestClient) -> None:
    assert vault.get("/theaters/nowhere").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "../escape", "source": "{source}"},
        {"name": "/tmp/escape", "source": "{source}"},
        {"name": "UPPER", "source": "{source}"},
        {"name": "ok", "source": "--upload-pack=touch /tmp/pwned"},
        {"name": "ok", "source": "ext::sh -c touch% /tmp/pwned"},
        {"name": "ok", "source": "relative/path"},
        {"name": "ok", "source": "{source}/missing"},
        {"name": "ok", "source": "ftp://example.invalid/repo.git"},
        {"name": "ok", "source": "{source}", "mainline": "-x"},
        {"name": "ok", "source": "{source}", "mainline": "a..b"},
        {"name": "ok", "source": "{source}", "mainline": "../../x"},
    ],
)
def test_hostile_names_sources_and_mainlines_are_refused_and_change_nothing(
    vault: TestClient,
    source_repo: Path,
    files_outside_home: FilesOutside,
    ledger_client: LedgerClient,
    body: dict[str, str],
) -> None:
    before = files_outside_home()
    request = {key: value.format(source=source_repo) for key, value in body.items()}

    response = vault.post("/theaters", json=request)

    assert response.status_code == 422, response.text
    assert files_outside_home() == before
    assert ledger_client.list_theaters() == []


def test_a_password_in_a_source_url_never_appears_in_the_answer(vault: TestClient) -> None:
    response = vault.post(
        "/theaters",
        json={"name": "remote", "source": "http://bot:hunter2@127.0.0.1:9/repo.git"},
    )

    assert response.status_code == 422
    assert "hunter2" not in response.text
    assert "bot:***@" in response.json()["detail"]


def test_a_folder_left_by_a_registration_that_died_is_replaced(
    vault: TestClient, home: Path, source_repo: Path
) -> None:
    leftover = home / "theaters" / "project"
    leftover.mkdir(parents=True)
    (leftover / "half-cloned").write_text("")

    response = vault.post("/theaters", json={"name": "project", "source": str(source_repo)})

    assert response.status_code == 201
    assert not (leftover / "half-cloned").exists()
    assert response.json()["head"] == git(source_repo, "rev-parse", "main")


def test_a_default_repository_built_by_an_ensure_that_died_is_reused(
    vault: TestClient, home: Path, ledger_client: LedgerClient
) -> None:
    (home / "theaters").mkdir(parents=True)
    built = init_bare_with_initial_commit(home / "theaters" / "default", "main", "first")
    head = built.branch_head("main")

    response = vault.post("/theaters/default/ensure")

    assert response.status_code == 200
    assert response.json()["head"] == head
    assert ".ironclaw/" in (built.path / "info" / "exclude").read_text().splitlines()
    assert theater_events(ledger_client, "default") == ["TheaterRegistered"]
