"""The fleet as real processes on loopback ports, for end-to-end and chaos tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from openai_server import free_port

from ironclaw.contracts.api import RunView
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.models import RUN_SETTLED

# (name, console script, command, port setting): the fleet of the whole-path milestone.
SERVICES: tuple[tuple[str, str, str], ...] = (
    ("ledger", "ironclaw-ledger", "serve"),
    ("relay", "ironclaw-ledger", "relay"),
    ("vault", "ironclaw-vault", "serve"),
    ("gateway", "ironclaw-gateway", "serve"),
    ("co", "ironclaw-co", "worker"),
    ("worker", "ironclaw-worker", "worker"),
    ("integration", "ironclaw-integration", "worker"),
)
NO_HEALTH = {"relay"}
# The watchdogs, started by the chaos tests (several replicas share a console script).
PATROLS: tuple[tuple[str, str, str], ...] = (
    ("observer", "ironclaw-observer", "patrol"),
    ("duty", "ironclaw-duty", "patrol"),
    ("duty-standby", "ironclaw-duty", "patrol"),
    ("sentinel", "ironclaw-sentinel", "patrol"),
)
# Started only by the tests that need them.
ON_DEMAND: tuple[tuple[str, str, str], ...] = (("replies", "ironclaw-gateway", "worker"),)


def script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@dataclass
class Fleet:
    home: Path
    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    worker_concurrency: int = 2
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def ledger(self) -> LedgerClient:
        return LedgerClient(
            f"http://127.0.0.1:{self.ports['ledger']}",
            token=self.env.get("IRONCLAW_INTERNAL_TOKEN"),
            retry_for_s=10,
        )

    def start_all(self, names: list[str]) -> None:
        """Start the services side by side, then wait for each to answer."""
        for name in names:
            self.start(name, wait=False)
        for name in names:
            if name not in NO_HEALTH:
                self.wait_healthy(name)

    def start(
        self, name: str, extra_env: dict[str, str] | None = None, *, wait: bool = True
    ) -> None:
        _, console, command = next(s for s in (*SERVICES, *PATROLS, *ON_DEMAND) if s[0] == name)
        port = self.ports.setdefault(name, free_port())
        env = {
            **self.env,
            **self.service_env.get(name, {}),
            **(extra_env or {}),
            "IRONCLAW_HTTP_PORT": str(port),
        }
        arguments = [script(console), command]
        if command == "worker":
            concurrency = self.worker_concurrency if name == "worker" else 1
            arguments.append(f"--concurrency={concurrency}")
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            arguments, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if wait and name not in NO_HEALTH:
            self.wait_healthy(name)

    def wait_healthy(self, name: str, timeout_s: float = 90) -> None:
        url = f"http://127.0.0.1:{self.ports[name]}/health"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{self.log_tail(name)}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} never answered {url}:\n{self.log_tail(name)}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the service's whole process group (a worker's pool children too)."""
        process = self.processes.pop(name)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in list(self.processes.values()):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def logs(self) -> str:
        names = [name for name, *_ in (*SERVICES, *PATROLS) if name in self.ports]
        return "\n".join(f"--- {name}\n{self.log_tail(name)}" for name in names)

    def post(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return httpx.post(f"{self.gateway}{path}", json=body, timeout=60, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.gateway}{path}", timeout=30, **kwargs)

    def wait_for_run(self, run_id: str, timeout_s: float = 120) -> RunView:
        """Poll the run until it settles; fails with the fleet's logs when it does not."""
        try:
            settled: RunView = self.wait_until(
                lambda: _settled(RunView.model_validate(self.get(f"/runs/{run_id}").json())),
                timeout_s,
                f"run {run_id} to settle",
            )
        except AssertionError as timeout:
            raise AssertionError(
                f"{timeout}\n--- the run's events\n{self.timeline(run_id)}"
            ) from None
        return settled

    def timeline(self, run_id: str) -> str:
        events = self.get(f"/runs/{run_id}/events").json()
        return "\n".join(
            f"{e['position']:>6} {e['stream_id']} v{e['version']} {e['type']} "
            f"{ {k: v for k, v in e['data'].items() if k in ('attempt', 'reason', 'status')} }"
            for e in events
        )

    def wait_until(self, probe: Callable[[], Any], timeout_s: float, what: str) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = probe()
            if found:
                return found
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")


def _settled(run: RunView) -> RunView | None:
    return run if run.status in RUN_SETTLED else None


def fleet_environment(
    home: Path, database_url: str, broker_url: str, model_url: str | None
) -> tuple[dict[str, str], dict[str, int]]:
    ports = {name: free_port() for name, *_ in SERVICES}
    env = {key: value for key, value in os.environ.items() if not key.startswith("IRONCLAW_")} | {
        "IRONCLAW_HOME": str(home),
        "IRONCLAW_DATABASE_URL": database_url,
        "IRONCLAW_BROKER_URL": broker_url,
        "IRONCLAW_LEDGER_URL": f"http://127.0.0.1:{ports['ledger']}",
        "IRONCLAW_VAULT_URL": f"http://127.0.0.1:{ports['vault']}",
        "IRONCLAW_LOG_LEVEL": "INFO",
        "IRONCLAW_INTERNAL_TOKEN": "e2e-internal-token",
    }
    if model_url:
        env |= {
            "IRONCLAW_LLM_BASE_URL": model_url,
            "IRONCLAW_LLM_MODEL": "scripted",
            "IRONCLAW_LLM_API_KEY": "e2e-model-key",
        }
    return env, ports
