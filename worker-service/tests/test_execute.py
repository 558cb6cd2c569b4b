"""`execute_order` against the real ledger and real git worktrees, with the command engine."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import OrderBudget
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.adapters.engines.openai_engine import NO_MODEL
from ironclaw.worker.domain.engine import Engine, EngineContext, EngineResult
from ironclaw.worker.domain.execute import execute_order


def last_event(ledger_client, order_id):
    return ledger_client.read_stream(order_id).events[-1]


def test_command_engine_commits_with_trailers_and_completes(
    issue_order, make_services, ledger_client, stream_types
):
    message = issue_order(commands=["echo hello > hello.txt", "test -s hello.txt"])

    assert execute_order(message, make_services()) == "completed"

    assert stream_types(message.order_id) == [
        "OrderPlanned",
        "OrderIssued",
        "OrderClaimed",
        "AttemptStarted",
        "OrderCompleted",
    ]
    completed = last_event(ledger_client, message.order_id).data
    aar = completed["aar"]
    assert aar["outcome"] == "completed"
    assert aar["changed_files"] == ["hello.txt"]
    assert aar["tests_run"] == ["echo hello > hello.txt", "test -s hello.txt"]
    assert "echo hello > hello.txt" in aar["summary"]
    (commit,) = completed["commits"]
    assert aar["commits"] == [commit]
    order = ledger_client.get_order(message.order_id)
    assert order.status == "completed"
    worktree = Path(order.attempts[0].worktree or "")
    body = git(worktree, "log", "-1", "--format=%B", commit)
    assert body.splitlines()[0].startswith("greet: ran 2 commands")
    trailers = git(worktree, "log", "-1", "--format=%(trailers:only,unfold)", commit)
    assert trailers.splitlines() == [
        f"Run-Id: {message.run_id}",
        f"Order-Id: {message.order_id}",
        "Attempt: 1",
    ]
    assert (worktree / ".ironclaw" / "task.md").exists()
    # vault's `default` theater starts from one commit of an empty tree
    assert git(worktree, "ls-tree", "-r", "--name-only", commit).split() == ["hello.txt"]
    assert git(worktree, "status", "--porcelain") == ""


def test_command_engine_stops_at_the_first_failing_command(
    issue_order, make_services, ledger_client
):
    commands = ["echo one > one.txt", "echo boom >&2; exit 3", "touch never.txt"]
    message = issue_order(commands=commands)

    assert execute_order(message, make_services()) == "failed"

    failed = last_event(ledger_client, message.order_id)
    assert failed.type == "OrderFailed"
    reason = failed.data["reason"]
    assert reason.startswith("command failed (exit 3): echo boom >&2; exit 3")
    assert "boom" in reason
    assert failed.data["aar"]["changed_files"] == ["one.txt"]  # partial work kept on the branch
    worktree = Path(ledger_client.get_order(message.order_id).attempts[0].worktree or "")
    assert not (worktree / "never.txt").exists()


def test_command_engine_stops_at_the_deadline(issue_order, make_services, ledger_client):
    message = issue_order(commands=["sleep 30"], budget=OrderBudget(ttl_s=1))
    started = time.monotonic()

    assert execute_order(message, make_services()) == "failed"

    assert time.monotonic() - started < 10
    failed = last_event(ledger_client, message.order_id).data
    assert failed["reason"].startswith(
        "budget_exceeded:wall_time (the order's TTL is 1 s): sleep 30"
    )
    assert failed["retryable"] is True


def test_commands_run_without_the_fleets_secrets(
    issue_order, make_services, ledger_client, monkeypatch
):
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN", "fleet-secret-1")
    monkeypatch.setenv("OPENAI_API_KEY", "provider-secret-2")
    message = issue_order(commands=["env > env.txt"])

    assert execute_order(message, make_services()) == "completed"

    worktree = Path(ledger_client.get_order(message.order_id).attempts[0].worktree or "")
    environment = (worktree / "env.txt").read_text()
    assert "PATH=" in environment
    assert "secret" not in environment
    assert "IRONCLAW_" not in environment


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_concurrent_deliveries_claim_once(issue_order, make_services, ledger_client, stream_types):
    message = issue_order(commands=["echo once >> once.txt"])
    services = make_services()
    outcomes: list[str] = []
    start = threading.Barrier(3)

    def deliver() -> None:
        start.wait()
        outcomes.append(execute_order(message, services))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == 3
    assert outcomes.count("completed") == 1
    assert set(outcomes) - {"completed"} <= {"duplicate", "skipped"}
    assert stream_types(message.order_id).count("OrderClaimed") == 1
    worktree = Path(ledger_client.get_order(message.order_id).attempts[0].worktree or "")
    assert (worktree / "once.txt").read_text() == "once\n"


def test_a_redelivered_message_is_dropped(issue_order, make_services, stream_types):
    message = issue_order(commands=["true"])
    services = make_services()
    assert execute_order(message, services) == "completed"
    before = stream_types(message.order_id)

    assert execute_order(message, services) == "skipped"
    stale = ExecuteOrder(**{**message.model_dump(), "attempt": 2})
    assert execute_order(stale, services) == "skipped"

    assert stream_types(message.order_id) == before


def test_no_model_configured_fails_the_order_at_once(
    issue_order, make_services, ledger_client, stream_types
):
    message = issue_order("write a poem")  # no commands: the openai engine
    started = time.monotonic()

    assert execute_order(message, make_services()) == "failed"

    assert time.monotonic() - started < 5
    assert stream_types(message.order_id)[-2:] == ["OrderClaimed", "OrderFailed"]
    failed = last_event(ledger_client, message.order_id).data
    assert failed["reason"] == NO_MODEL
    assert failed["retryable"] is False
    assert ledger_client.get_order(message.order_id).status == "failed"


def test_an_unknown_engine_fails_the_order_naming_the_installed_ones(
    issue_order, make_services, ledger_client
):
    message = issue_order(engine="nonesuch")

    assert execute_order(message, make_services()) == "failed"

    reason = last_event(ledger_client, message.order_id).data["reason"]
    assert reason.startswith("unknown engine nonesuch; installed: ")
    assert {"command", "openai"} <= set(reason.split("installed: ")[1].split(", "))


class ExplodingEngine:
    name = "exploding"

    def run(self, context: EngineContext) -> EngineResult:
        (context.worktree / "half.txt").write_text("half done\n")
        raise RuntimeError("kaboom")


class StuckEngine:
    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, context: EngineContext) -> EngineResult:
        self.release.wait(30)  # ignores its deadline
        return EngineResult(outcome="completed", summary="too late")


def fixed_loader(engine: Engine):
    return lambda name: engine


def test_an_engine_that_raises_fails_the_order(issue_order, make_services, ledger_client):
    message = issue_order(engine="exploding")

    outcome = execute_order(message, make_services(load_engine=fixed_loader(ExplodingEngine())))

    assert outcome == "failed"
    failed = last_event(ledger_client, message.order_id)
    assert failed.type == "OrderFailed"
    assert failed.data["reason"] == "engine exploding raised RuntimeError: kaboom"
    assert failed.data["aar"]["changed_files"] == ["half.txt"]


def test_an_engine_that_never_returns_fails_the_order(issue_order, make_services, ledger_client):
    engine = StuckEngine()
    message = issue_order(engine="stuck", budget=OrderBudget(ttl_s=1))
    services = make_services(load_engine=fixed_loader(engine), engine_grace_s=0.5)
    started = time.monotonic()
    try:
        outcome = execute_order(message, services)
    finally:
        engine.release.set()

    assert outcome == "failed"
    assert time.monotonic() - started < 10
    failed = last_event(ledger_client, message.order_id).data
    assert failed["reason"].startswith("engine stuck did not return within")
    assert failed["aar"]["commits"] == []  # nothing committed under a running engine


def test_an_order_the_ledger_does_not_know_is_skipped(make_services):
    message = ExecuteOrder(
        event_id="evt_" + "0" * 26, order_id="ord_" + "0" * 26, run_id="run_" + "0" * 26, attempt=1
    )
    assert execute_order(message, make_services()) == "skipped"
