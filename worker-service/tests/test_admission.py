"""A paused theater or a disabled profile: the Order is settled `failed`, never claimed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.domain.execute import execute_order
from ironclaw.worker.domain.ports import AttemptServices

IssueOrder = Callable[..., ExecuteOrder]
MakeServices = Callable[..., AttemptServices]


def pause(ledger: LedgerClient, theater: str, reason: str) -> None:
    """The duty officer's `DispatchPaused`, as it appends it."""
    paused = ev.DispatchPaused(theater=theater, reason=reason)
    ledger.append(ev.theater_stream(theater), [paused], expected_version=None)


def disable(ledger: LedgerClient, profile: str, reason: str) -> None:
    disabled = ev.ProfileDisabled(profile=profile, reason=reason, consecutive_failures=5)
    ledger.append(ev.profile_stream(profile), [disabled], expected_version=None)


def assert_refused_unclaimed(
    ledger: LedgerClient, message: ExecuteOrder, vault_home: Path, reason: str
) -> None:
    order = ledger.get_order(message.order_id)
    assert order.status == "failed"
    assert [e.type for e in ledger.read_stream(message.order_id).events] == [
        "OrderPlanned",
        "OrderIssued",
        "OrderFailed",
    ]
    (attempt,) = order.attempts
    assert attempt.reason == reason
    assert attempt.claimed_at is None
    assert attempt.worktree is None
    assert not (vault_home / "worktrees" / "default" / f"{message.order_id}-1").exists()


def test_an_order_of_a_paused_theater_fails_with_the_reason_and_gets_no_worktree(
    issue_order: IssueOrder,
    make_services: MakeServices,
    ledger_client: LedgerClient,
    vault_home: Path,
) -> None:
    message = issue_order(commands=["echo hi > hi.txt"])
    pause(ledger_client, "default", "daily garrison budget spent: 1200 of 1000 tokens")

    assert execute_order(message, make_services()) == "dispatch_refused"

    reason = (
        "dispatch refused: theater 'default' is paused: daily garrison budget spent: "
        "1200 of 1000 tokens"
    )
    assert_refused_unclaimed(ledger_client, message, vault_home, reason)
    failed = ledger_client.read_stream(message.order_id).events[-1]
    assert failed.data["retryable"] is True
    # A late duplicate delivery finds the Order settled and does nothing.
    assert execute_order(message, make_services()) == "skipped"


def test_an_order_on_a_disabled_profile_fails_with_the_reason(
    issue_order: IssueOrder,
    make_services: MakeServices,
    ledger_client: LedgerClient,
    vault_home: Path,
) -> None:
    message = issue_order(commands=["echo hi > hi.txt"])  # no profile: runs on `default`
    disable(ledger_client, "default", "5 failures in a row (last: engine crashed)")

    assert execute_order(message, make_services()) == "dispatch_refused"

    reason = (
        "dispatch refused: profile 'default' is disabled: 5 failures in a row "
        "(last: engine crashed)"
    )
    assert_refused_unclaimed(ledger_client, message, vault_home, reason)


def test_an_enabled_profile_and_a_resumed_theater_dispatch_again(
    issue_order: IssueOrder,
    make_services: MakeServices,
    ledger_client: LedgerClient,
    vault_home: Path,
) -> None:
    pause(ledger_client, "default", "over budget")
    disable(ledger_client, "default", "failing")
    resumed = ev.DispatchResumed(theater="default", reason="a new day")
    ledger_client.append(ev.theater_stream("default"), [resumed], expected_version=None)
    enabled = ev.ProfileEnabled(profile="default", operator="ops")
    ledger_client.append(ev.profile_stream("default"), [enabled], expected_version=None)
    message = issue_order(commands=["echo hi > hi.txt"])

    assert execute_order(message, make_services()) == "completed"
    assert (vault_home / "worktrees" / "default" / f"{message.order_id}-1").is_dir()
