"""The `cli` engine driving a fake coding-agent CLI through a profile: success (output kept
as an artifact, usage read, the change committed), failure, and a hang stopped at its timeout
with its whole process group gone."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.profiles import ModelProfile
from ironclaw.worker.adapters.engines.cli import command_for
from ironclaw.worker.domain.execute import execute_order

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")


def agent_profile(*args: str, **fields: object) -> dict[str, ModelProfile]:
    command = [sys.executable, str(FAKE_AGENT), *args]
    profile = ModelProfile.model_validate(
        {"name": "agent", "engine": "cli", "cli_agent": "generic", "cli_command": command,
         **fields}
    )  # fmt: skip
    return {"agent": profile}


def settled(ledger_client, order_id):
    return ledger_client.read_stream(order_id).events[-1]


def test_a_successful_agent_completes_the_order_with_its_output_and_usage(
    issue_order, make_services, ledger_client, vault_url, monkeypatch
):
    monkeypatch.setenv("FAKE_AGENT_KEY", "agent-key-1234567")
    message = issue_order("write agent.txt", profile="agent")
    profiles = agent_profile("success", "{prompt}", api_key_env="FAKE_AGENT_KEY")

    assert execute_order(message, make_services(profiles=profiles)) == "completed"

    event = settled(ledger_client, message.order_id)
    aar = event.data["aar"]
    assert aar["engine"] == "cli"
    assert aar["profile"] == "agent"
    assert aar["changed_files"] == ["agent.txt"]
    assert aar["tokens"] == {"input": 1500, "output": 250}
    assert aar["cost_usd"] == pytest.approx(0.02)
    assert "Applied edit to agent.txt" in aar["summary"]
    worktree = Path(ledger_client.get_order(message.order_id).attempts[0].worktree or "")
    (commit,) = event.data["commits"]
    assert git(worktree, "show", f"{commit}:agent.txt").startswith("did: # Order")
    (artifact,) = aar["artifacts"]
    with VaultClient(vault_url) as vault:
        output = vault.read_artifact(artifact).decode()
    assert "Tokens: 1.5k sent" in output
    assert "key seen: [REDACTED]" in output  # the agent got its key; the artifact never has it
    assert "agent-key-1234567" not in str(event.data)


def test_a_claude_style_json_result_gives_the_summary_tokens_and_cost(
    issue_order, make_services, ledger_client
):
    message = issue_order(profile="agent")

    outcome = execute_order(message, make_services(profiles=agent_profile("claude", "{prompt}")))

    assert outcome == "completed"
    aar = settled(ledger_client, message.order_id).data["aar"]
    assert aar["summary"] == "Wrote agent.txt"
    assert aar["tokens"] == {"input": 1234, "output": 300}
    assert aar["cost_usd"] == pytest.approx(0.0421)


def test_a_failing_agent_fails_the_order_with_its_exit_status_and_output(
    issue_order, make_services, ledger_client
):
    message = issue_order(profile="agent")

    outcome = execute_order(message, make_services(profiles=agent_profile("fail", "{prompt}")))

    assert outcome == "failed"
    failed = settled(ledger_client, message.order_id).data
    assert failed["reason"].startswith(f"the agent {sys.executable} exited 3\n")
    assert "the tests do not exist" in failed["reason"]
    assert failed["retryable"] is False
    assert len(failed["aar"]["artifacts"]) == 1


def test_a_hanging_agent_is_killed_with_its_children_at_its_timeout(
    issue_order, make_services, ledger_client, tmp_path: Path
):
    pids = tmp_path / "hang.pids"
    message = issue_order(profile="agent")
    profiles = agent_profile("hang", "{prompt}", str(pids), cli_timeout_s=1.5)

    assert execute_order(message, make_services(profiles=profiles)) == "failed"

    failed = settled(ledger_client, message.order_id).data
    assert failed["reason"].startswith(f"the agent {sys.executable} timed out after 1.5 s")
    assert failed["retryable"] is True
    for pid in map(int, pids.read_text().split()):
        assert not alive(pid), pid


def alive(pid: int) -> bool:
    deadline = time.monotonic() + 5  # a killed process may take a moment to be reaped
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False  # a zombie: dead, waiting for its parent (init) to reap it
        time.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("agent", "model", "expected"),
    [
        ("codex", "o4", ["codex", "exec", "--model", "o4", "--full-auto", "--skip-git-repo-check",
                         "do it"]),
        ("claude", None, ["claude", "-p", "do it", "--output-format", "json"]),
        ("aider", "gpt-4o", ["aider", "--model", "gpt-4o", "--yes-always", "--no-auto-commits",
                             "--no-check-update", "--message", "do it"]),
        ("generic", "m1", ["agent", "--model={model}", "do it"]),
    ],
)  # fmt: skip
def test_each_agent_has_a_headless_template(agent, model, expected):
    command = ["agent", "--model={model}", "{prompt}"]
    expected = [part.replace("{model}", model or "") for part in expected]
    assert command_for(agent, command, prompt="do it", model=model) == expected


def test_a_generic_agent_without_a_command_fails_the_order_at_once(
    issue_order, make_services, ledger_client
):
    message = issue_order(profile="agent")
    profiles = {"agent": ModelProfile(name="agent", engine="cli", cli_agent="generic")}

    assert execute_order(message, make_services(profiles=profiles)) == "failed"

    failed = settled(ledger_client, message.order_id).data
    assert failed["reason"] == "the generic cli agent needs a command (cli_command)"
    assert failed["retryable"] is False
