"""No configured secret leaks: after units that echo their keys into tool calls, commands,
summaries and agent output, a grep over every event, log line and artifact finds none."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from celery import Celery
from openai_server import tool_call

from ironclaw.contracts.kit.logging import configure_logging, get_logger
from ironclaw.contracts.kit.secrets import settings_secrets
from ironclaw.contracts.profiles import ModelProfile
from ironclaw.worker.domain.execute import execute_order
from ironclaw.worker.tasks import register_tasks

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
PROFILE_KEY = "io-plain-profile-key-value"  # known as the key its profile names, nothing else
AGENT_KEY = "agent-plain-key-value-42"
WORKER_KEY = "sk-live-abcdefghijklmnopqrstuvwx"  # the worker's own IRONCLAW_LLM_API_KEY


@pytest.fixture
def service_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers = handlers
    root.setLevel(level)


def test_no_configured_secret_reaches_events_logs_or_artifacts(
    model_endpoint, model_settings, issue_order, make_services, ledger_client, vault_home,
    monkeypatch, capfd, service_logging, tmp_path,
):  # fmt: skip
    monkeypatch.setenv("IO_MODEL_ACCESS", PROFILE_KEY)  # a name that says nothing
    monkeypatch.setenv("FAKE_AGENT_KEY", AGENT_KEY)
    url, model = model_endpoint
    garrison = tmp_path / "garrison"
    (garrison / "config").mkdir(parents=True)
    (garrison / "config" / "profiles.toml").write_text(
        f'[profiles.io]\nbase_url = "{url}"\nmodel = "m"\napi_key_env = "IO_MODEL_ACCESS"\n'
    )
    settings = model_settings.model_copy(
        update={"llm_api_key": WORKER_KEY, "garrison_dir": garrison}
    )
    profiles = {
        "io": ModelProfile(
            name="io", base_url=url, model="m", api_key_env="IO_MODEL_ACCESS"
        ),
        "agent": ModelProfile(
            name="agent", engine="cli", cli_agent="generic", api_key_env="FAKE_AGENT_KEY",
            cli_command=[sys.executable, str(FAKE_AGENT), "success", "{prompt}"],
        ),
    }  # fmt: skip
    configure_logging("worker", secrets=settings_secrets(settings))
    register_tasks(Celery("test"), settings)  # as the worker starts: reads the profiles
    model.queue(
        tool_call("write_file", {"path": "leak.txt", "content": f"key={PROFILE_KEY}"}),
        tool_call("run_command", {"command": ["echo", WORKER_KEY, PROFILE_KEY]}),
        tool_call("finish", {"summary": f"Leaked {PROFILE_KEY} and {WORKER_KEY}",
                             "outcome": "completed"}),
    )  # fmt: skip
    services = make_services(settings, profiles=profiles)
    by_model = issue_order("leak the keys", profile="io")
    by_agent = issue_order("print your key", profile="agent")
    get_logger().warning("worker.test.careless", said=f"the key is {PROFILE_KEY}")

    assert execute_order(by_model, services) == "completed"
    assert execute_order(by_agent, services) == "completed"

    streams = [by_model.order_id, by_model.run_id, by_agent.order_id, by_agent.run_id]
    events = json.dumps(
        [e.model_dump(mode="json") for s in streams for e in ledger_client.read_stream(s).events]
    )
    logs = "".join(capfd.readouterr())
    artifacts = [
        p.read_bytes().decode() for p in (vault_home / "artifacts").rglob("*") if p.is_file()
    ]
    assert "[REDACTED]" in events
    assert "[REDACTED]" in logs
    assert any("key seen: [REDACTED]" in a for a in artifacts)
    for secret in (PROFILE_KEY, AGENT_KEY, WORKER_KEY):
        assert secret not in events
        assert secret not in logs
        assert not any(secret in artifact for artifact in artifacts)
    # what carried them is still there, with the secrets taken out
    assert "echo [REDACTED] [REDACTED] (exit code 0)" in events
