"""An attempt's life beyond the happy path, on the real ledger, vault and git: a cancel that
stops a running unit at its next signal, and an attempt reissued from a rescued one's work."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import WorktreeRequest
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import OrderBudget
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.observer.adapters.rescue import save_rescue
from ironclaw.worker.adapters.vault import VaultWorktrees
from ironclaw.worker.domain.execute import execute_order

HEARTBEAT_S = 0.2


def wait_for(probe, what: str, timeout_s: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def mainline_head(vault_home: Path) -> str:
    return git(vault_home / "theaters" / "default", "rev-parse", "refs/heads/main")


def test_a_cancelled_order_stops_its_running_unit_at_the_next_signal(
    issue_order, make_services, ledger_client, stream_types, vault_home, tmp_path
):
    pid_file = tmp_path / "sleeper.pid"
    sleeper = (
        f"python3 -c \"import os, time; open('{pid_file}', 'w').write(str(os.getpid())); "
        'time.sleep(600)"'
    )
    message = issue_order(
        commands=["echo started > started.txt", sleeper, "echo never > never.txt"],
        budget=OrderBudget(ttl_s=900),
    )
    before = mainline_head(vault_home)
    outcomes: list[str] = []
    unit = threading.Thread(
        target=lambda: outcomes.append(
            execute_order(message, make_services(heartbeat_interval_s=HEARTBEAT_S))
        )
    )
    unit.start()
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the long command"))

    # The gateway's cancel, as `POST /runs/{id}/cancel` appends it.
    ledger_client.append(
        message.run_id, [ev.RunCancelRequested(run_id=message.run_id)], expected_version=None
    )
    ledger_client.append(
        message.order_id,
        [ev.OrderCancelled(order_id=message.order_id, run_id=message.run_id, reason="operator")],
        expected_version=None,
    )
    unit.join(timeout=60)  # the command would sleep 600 s, the order's TTL is 900 s

    assert not unit.is_alive()
    assert outcomes == ["refused"]  # its OrderFailed came after the cancel: refused
    assert not is_alive(pid)
    order = ledger_client.get_order(message.order_id)
    assert (order.status, order.attempts[0].status) == ("cancelled", "cancelled")
    types = stream_types(message.order_id)
    after_cancel = types[types.index("OrderCancelled") + 1 :]
    assert set(after_cancel) <= {"SignalEmitted"}  # the beat that saw the cancel, no outcome
    assert not {"OrderCompleted", "OrderFailed"} & set(types)
    worktree = Path(order.attempts[0].worktree or "")
    assert not (worktree / "never.txt").exists()
    assert mainline_head(vault_home) == before  # nothing of the unit reached the mainline
    branch = f"refs/heads/ironclaw/{message.order_id}/1"
    assert "started.txt" in git(worktree, "ls-tree", "--name-only", branch).split()


def unit_that_died(
    message: ExecuteOrder, ledger_client: LedgerClient, worktrees: VaultWorktrees
) -> Path:
    """Attempt 1 as a unit left it when it died: one commit of its own, `two.txt` uncommitted."""
    ids = {"order_id": message.order_id, "run_id": message.run_id, "attempt": 1}
    ledger_client.append(
        message.order_id,
        [ev.OrderClaimed(**ids, worker_id="dead-unit", lease_s=30)],
        expected_version=None,
    )
    view = worktrees.create(
        WorktreeRequest(
            theater="default",
            order_id=message.order_id,
            run_id=message.run_id,
            attempt=1,
            task_md="# the task\n",
        )
    )
    ledger_client.append(
        message.order_id,
        [
            ev.AttemptStarted(
                **ids,
                branch=view.branch,
                worktree=view.path,
                base_commit=view.base_commit,
                engine="command",
            )
        ],
        expected_version=None,
    )
    worktree = Path(view.path)
    (worktree / "one.txt").write_text("one\n")
    git(worktree, "add", "one.txt")
    git(worktree, "commit", "-q", "-m", "greet: one")
    (worktree / "two.txt").write_text("two\n")
    assert (worktree / ".ironclaw" / "task.md").exists()
    return worktree


def test_a_reissued_attempt_starts_from_the_rescued_work_and_reports_it_as_its_own(
    issue_order, make_services, ledger_client, worktrees, stream_types, vault_home
):
    message = issue_order(commands=["echo three > three.txt"])
    mainline = mainline_head(vault_home)
    worktree = unit_that_died(message, ledger_client, worktrees)
    unit_commit = git(worktree, "rev-parse", "HEAD")
    # The observer's part: save the work to the rescue ref, record it, remove the worktree.
    rescue = save_rescue(vault_home / "theaters" / "default", worktree, message.order_id, 1)
    worktrees.remove(message.order_id, 1)
    # The duty officer's part: reissue as attempt 2 from the rescue.
    saved = ev.RescueSaved(
        order_id=message.order_id, attempt=1, ref=rescue.ref, commit=rescue.commit
    )
    reissue = ev.OrderIssued(
        order_id=message.order_id,
        run_id=message.run_id,
        attempt=2,
        reason="stalled",
        rescue_ref=rescue.ref,
    )
    result = ledger_client.append(message.order_id, [saved, reissue], expected_version=None)
    second = ExecuteOrder(
        event_id=result.events[-1].id,
        order_id=message.order_id,
        run_id=message.run_id,
        attempt=2,
    )

    assert execute_order(second, make_services()) == "completed"

    order = ledger_client.get_order(message.order_id)
    attempt = order.attempts[1]
    assert attempt.base_commit == mainline  # its fork point from the mainline
    assert attempt.rescue_ref == rescue.ref
    aar = attempt.aar
    assert aar is not None
    assert sorted(aar.changed_files) == ["one.txt", "three.txt", "two.txt"]
    # The rescued commits are unfolded into the attempt's one commit: no trailer-less rescue
    # commit (nor attempt 1's) goes to the mainline, and everything is attempt 2's.
    (own,) = attempt.commits
    assert aar.commits == [own]
    assert unit_commit != own
    new_worktree = Path(attempt.worktree or "")
    assert git(new_worktree, "show", "--format=%(trailers:key=Attempt,valueonly)", "-s", own) == "2"
    task = (new_worktree / ".ironclaw" / "task.md").read_text()
    assert f"starts from the work an earlier attempt left (saved to `{rescue.ref}`)" in task
    # No commit of the attempt carries the order files, though the rescue took `add --all`.
    touched = git(new_worktree, "log", "--name-only", "--format=", f"{mainline}..HEAD").split()
    assert sorted(set(touched)) == ["one.txt", "three.txt", "two.txt"]
    assert stream_types(message.order_id)[-1] == "OrderCompleted"


def test_a_rescue_ref_that_names_nothing_starts_the_attempt_from_the_mainline(
    issue_order, make_services, ledger_client, vault_home
):
    message = issue_order(commands=["echo three > three.txt"])
    reissue = ev.OrderIssued(
        order_id=message.order_id,
        run_id=message.run_id,
        attempt=2,
        reason="stalled",
        rescue_ref=f"refs/ironclaw/rescue/{message.order_id}/1",  # never saved
    )
    result = ledger_client.append(message.order_id, [reissue], expected_version=None)
    second = ExecuteOrder(
        event_id=result.events[-1].id,
        order_id=message.order_id,
        run_id=message.run_id,
        attempt=2,
    )

    assert execute_order(second, make_services()) == "completed"

    attempt = ledger_client.get_order(message.order_id).attempts[1]
    assert attempt.base_commit == mainline_head(vault_home)
    assert attempt.aar is not None
    assert attempt.aar.changed_files == ["three.txt"]
