"""`make dev`: the same path on the embedded backends (SQLite ledger, a folder as the broker)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from model_scripts import agent, plan_of
from openai_server import ScriptedModel

from ironclaw.contracts.kit.git import git

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = "http://127.0.0.1:8000"


def gateway_answers() -> bool:
    try:
        return httpx.get(f"{GATEWAY}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def dev_fleet(tmp_path: Path, model_endpoint: tuple[str, ScriptedModel]) -> Iterator[Path]:
    if gateway_answers():
        pytest.skip("something already answers on 127.0.0.1:8000 (a running `make dev`?)")
    home = tmp_path / "dev-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRONCLAW_")} | {
        "IRONCLAW_HOME": str(home),
        "IRONCLAW_LLM_BASE_URL": model_endpoint[0],
        "IRONCLAW_LLM_MODEL": "scripted",
        "IRONCLAW_LLM_API_KEY": "dev-key",
    }
    log = open(tmp_path / "make-dev.log", "wb")  # noqa: SIM115 - closed below
    make = subprocess.Popen(
        ["make", "dev"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not gateway_answers():
            assert make.poll() is None, (tmp_path / "make-dev.log").read_text()[-5000:]
            assert time.monotonic() < deadline, "make dev never answered on :8000"
            time.sleep(0.5)
        yield home
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait(timeout=10)
        log.close()


def test_make_dev_runs_a_chat_message_to_mainline(
    dev_fleet: Path, model_endpoint: tuple[str, ScriptedModel]
) -> None:
    model_endpoint[1].default = agent(
        plan_of({"key": "notes", "objective": "Create NOTES.md"}),
        [("write_file", {"path": "NOTES.md", "content": "# Notes\n"})],
        summary="Created NOTES.md",
    )
    accepted = httpx.post(
        f"{GATEWAY}/chat", json={"message": "add NOTES.md", "wait_s": 120}, timeout=130
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "completed", accepted.json()
    theater = httpx.get(f"{GATEWAY}/theaters/default", timeout=10).json()
    assert Path(theater["path"]) == dev_fleet / "theaters" / "default"
    assert git(theater["path"], "show", "main:NOTES.md") == "# Notes"
    assert (dev_fleet / "ledger.db").exists()
