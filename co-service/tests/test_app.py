"""The co service's readiness and its `playbooks` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ironclaw.co.app import create_app
from ironclaw.co.cli import create_cli
from ironclaw.co.config import Settings


def test_ready_when_the_ledger_answers_and_the_playbooks_load(
    ledger_url: str, shipped_playbooks: Path
) -> None:
    settings = Settings(ledger_url=ledger_url, garrison_dir=shipped_playbooks.parent)

    response = TestClient(create_app(settings)).get("/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"ledger": "ok", "playbooks": "ok"}


def test_not_ready_without_a_ledger_or_playbooks(tmp_path: Path) -> None:
    settings = Settings(ledger_url="http://127.0.0.1:9", garrison_dir=tmp_path)

    response = TestClient(create_app(settings)).get("/ready")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["ledger"].startswith("error: ")
    assert "IRONCLAW_GARRISON_DIR" in checks["playbooks"]


def test_the_garrison_defaults_to_the_cwd_and_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("IRONCLAW_GARRISON_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert Settings().playbooks_dir == tmp_path / "garrison" / "playbooks"

    monkeypatch.setenv("IRONCLAW_GARRISON_DIR", "/srv/garrison")
    assert Settings().playbooks_dir == Path("/srv/garrison/playbooks")


def test_the_playbooks_command_lists_them_and_fails_on_a_refused_file(
    monkeypatch: pytest.MonkeyPatch, shipped_playbooks: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("IRONCLAW_GARRISON_DIR", str(shipped_playbooks.parent))
    listed = CliRunner().invoke(create_cli(), ["playbooks"])

    assert listed.exit_code == 0, listed.output
    assert "feature@1 (default): " in listed.output
    assert "bugfix@1: " in listed.output

    (tmp_path / "playbooks").mkdir()
    for path in shipped_playbooks.glob("*.toml"):
        (tmp_path / "playbooks" / path.name).write_text(path.read_text())
    (tmp_path / "playbooks" / "broken.toml").write_text('name = "broken"\n')
    monkeypatch.setenv("IRONCLAW_GARRISON_DIR", str(tmp_path))
    refused = CliRunner().invoke(create_cli(), ["playbooks"])

    assert refused.exit_code == 1
    assert "refused: broken.toml: " in refused.output
