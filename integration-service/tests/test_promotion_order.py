"""Deterministic promotion, duplicate deliveries and crashes, on a real ledger and theater."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import OrderStatus
from ironclaw.integration.adapters.vault import VaultAdapter
from ironclaw.integration.domain.integration import Disposition, Integrator
from ironclaw.integration.domain.review import GatePolicy

if TYPE_CHECKING:
    from conftest import Stage, StageFactory  # fixture types; conftest is not importable


def test_an_order_waits_for_the_orders_planned_before_it(
    stage: Stage, integrator: Integrator
) -> None:
    first, second = stage.plan_run("first", "second")
    stage.finish(second, {"second.txt": "2\n"})
    stage.start(first)  # still running
    version = stage.order(second).version
    before = stage.theater.head()

    assert integrator.integrate_order(second.request()) is Disposition.DEFERRED

    assert stage.order(second).status is OrderStatus.COMPLETED
    assert stage.order(second).version == version
    assert stage.theater.head() == before


def test_an_order_after_a_failed_or_cancelled_one_is_not_held_back(
    stage: Stage, integrator: Integrator
) -> None:
    failed, cancelled, last = stage.plan_run("failed", "cancelled", "last")
    stage.start(failed)
    stage.ledger.append(
        failed.order_id,
        [ev.OrderFailed(order_id=failed.order_id, run_id=failed.run_id, attempt=1, reason="x")],
        expected_version=stage.order(failed).version,
    )
    stage.ledger.append(
        cancelled.order_id,
        [ev.OrderCancelled(order_id=cancelled.order_id, run_id=cancelled.run_id)],
        expected_version=None,
    )
    stage.finish(last, {"last.txt": "3\n"})

    assert integrator.integrate_order(last.request()) is Disposition.INTEGRATED


def promote_two_orders(stage: Stage, integrator: Integrator, *, finish_first: str) -> list[str]:
    """A run planned as [alpha, beta] whose units finish in the order given; the mainline after.

    Integration is asked for each order as it completes (as `OrderCompleted` triggers it), and
    again for a deferred one once its predecessor settled (as co's `IntegrationReady` does).
    """
    alpha, beta = stage.plan_run("alpha", "beta")
    stage.start(alpha)
    stage.start(beta)
    finishing = [alpha, beta] if finish_first == "alpha" else [beta, alpha]
    dispositions = []
    for order in finishing:
        stage.commit(order, {f"{order.key}.txt": f"{order.key}\n"}, subject=f"{order.key} change")
        stage.complete(order)
        dispositions.append(integrator.integrate_order(order.request()))
    if finish_first == "beta":
        assert dispositions == [Disposition.DEFERRED, Disposition.INTEGRATED]
        assert integrator.integrate_order(beta.request()) is Disposition.INTEGRATED
    else:
        assert dispositions == [Disposition.INTEGRATED, Disposition.INTEGRATED]
    assert {stage.order(o).status for o in finishing} == {OrderStatus.INTEGRATED}
    return stage.theater.subjects()


def test_orders_reach_mainline_in_plan_order_whatever_order_they_finish_in(
    make_stage: StageFactory, integrator: Integrator
) -> None:
    histories = [
        promote_two_orders(make_stage(f"round{n}-{first}"), integrator, finish_first=first)
        for n, first in enumerate(("beta", "alpha", "beta"))
    ]

    expected = ["initial commit", "alpha change", "beta change"]
    assert histories == [expected] * 3


def test_a_duplicate_delivery_integrates_once(
    stage: Stage,
    ledger_client: LedgerClient,
    second_ledger_client: LedgerClient,
    artifacts: VaultAdapter,
) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    integrators = [
        Integrator(client, artifacts=artifacts, policy=GatePolicy())
        for client in (ledger_client, second_ledger_client)
    ]
    request = order.request()

    with ThreadPoolExecutor(max_workers=2) as pool:
        racing = list(pool.map(lambda i: i.integrate_order(request), integrators))
    late = integrators[0].integrate_order(request)

    assert sorted([*racing, late]).count(Disposition.INTEGRATED) == 1
    assert late is Disposition.SKIPPED
    assert stage.event_types(order.order_id).count("Integrated") == 1
    assert stage.event_types("theater-demo").count("MainlineAdvanced") == 1
    assert len(stage.theater.commits_with_trailer(order.order_id)) == 1
    assert stage.theater.subjects() == ["initial commit", "feature"]


def test_a_crash_after_moving_the_mainline_is_recorded_not_merged_again(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    # What a crashed integrator did: claimed the integration, fast-forwarded, then died.
    started = ev.IntegrationStarted(order_id=order.order_id, run_id=order.run_id, attempt=1)
    stage.ledger.append(order.order_id, [started], expected_version=stage.order(order).version)
    before = stage.theater.head()
    head = order.commits[-1]
    git(stage.theater.path, "update-ref", "refs/heads/main", head, before)

    assert integrator.integrate_order(order.request()) is Disposition.INTEGRATED

    view = stage.order(order)
    assert view.status is OrderStatus.INTEGRATED
    assert view.integration is not None
    assert view.integration.merged_commit == head == stage.theater.head()
    assert stage.theater.commits_with_trailer(order.order_id) == [head]
    assert stage.event_types(order.order_id).count("Integrated") == 1
    advanced = stage.ledger.read_stream("theater-demo").events[-1]
    assert (advanced.type, advanced.data["head"]) == ("MainlineAdvanced", head)
    assert integrator.integrate_order(order.request()) is Disposition.SKIPPED


def test_a_crash_before_moving_the_mainline_is_integrated_from_the_start(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    started = ev.IntegrationStarted(order_id=order.order_id, run_id=order.run_id, attempt=1)
    stage.ledger.append(order.order_id, [started], expected_version=stage.order(order).version)
    moved = stage.theater.commit_on_mainline({"other.txt": "y\n"}, "meanwhile")
    assert order.worktree is not None
    # The crash came mid-rebase: a conflict-free rebase is stopped half way by an `edit` step.
    git(order.worktree, "rebase", "-i", moved, env={"GIT_SEQUENCE_EDITOR": "sed -i s/^pick/edit/"})
    assert Path(git(order.worktree, "rev-parse", "--git-path", "rebase-merge")).exists()

    assert integrator.integrate_order(order.request()) is Disposition.INTEGRATED

    assert stage.theater.subjects() == ["initial commit", "meanwhile", "feature"]
    assert stage.event_types(order.order_id).count("Integrated") == 1


def test_the_worktree_is_removed_once_settled_and_a_failed_removal_is_not_fatal(
    make_stage: StageFactory,
    ledger_client: LedgerClient,
    artifacts: VaultAdapter,
    unreachable_vault: VaultClient,
) -> None:
    removing = Integrator(ledger_client, artifacts=artifacts, janitor=artifacts)
    unreachable = VaultAdapter(unreachable_vault)
    failing = Integrator(ledger_client, artifacts=artifacts, janitor=unreachable)
    stage = make_stage("demo")
    first, second = stage.plan_run("first", "second")
    stage.finish(first, {"first.txt": "1\n"})
    stage.finish(second, {"second.txt": "2\n"})
    assert first.worktree is not None
    assert second.worktree is not None

    assert removing.integrate_order(second.request()) is Disposition.DEFERRED
    assert first.worktree.is_dir()  # nothing removed yet
    assert second.worktree.is_dir()
    assert removing.integrate_order(first.request()) is Disposition.INTEGRATED
    assert not first.worktree.exists()  # the vault removed it ...
    assert second.worktree.is_dir()  # ... and only it
    assert git(stage.theater.path, "rev-parse", f"refs/heads/{first.branch}") == first.commits[-1]
    assert failing.integrate_order(second.request()) is Disposition.INTEGRATED
    assert stage.order(second).status is OrderStatus.INTEGRATED
    assert second.worktree.is_dir()  # the vault was out of reach: the worktree stays
