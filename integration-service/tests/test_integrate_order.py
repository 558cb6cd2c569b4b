"""`Integrator.integrate_order` on a real ledger, a real bare theater and real worktrees."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ironclaw.contracts.clients.vault import VaultClient
from ironclaw.contracts.kit.git import git
from ironclaw.contracts.models import OrderStatus
from ironclaw.integration.domain.integration import Disposition, Integrator

if TYPE_CHECKING:
    from conftest import Stage  # the fixtures' types; conftest is not importable at run time

PASSING_GATES = """
[[gates]]
name = "feature-present"
run = "test -f feature.txt"

[[gates]]
name = "readme-intact"
run = "grep -q 'first line' README.md && echo readme ok"
timeout_s = 20
"""

FAILING_GATES = """
[[gates]]
name = "lint"
run = "true"

[[gates]]
name = "tests"
run = '''
for i in $(seq 1 400); do echo "test line $i"; done
echo 'FAILED: feature broken' >&2
exit 3
'''
"""


def test_passing_gates_fast_forward_the_mainline_and_record_integrated(
    stage: Stage, integrator: Integrator
) -> None:
    stage.theater.commit_on_mainline({".ironclaw.toml": PASSING_GATES}, "add gates")
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "the feature\n"})
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.INTEGRATED

    view = stage.order(order)
    assert view.status is OrderStatus.INTEGRATED
    assert view.integration is not None
    merged = view.integration.merged_commit
    assert merged == stage.theater.head() == order.commits[-1]  # nothing moved: a fast-forward
    assert git(stage.theater.path, "merge-base", "--is-ancestor", before, merged) == ""
    assert stage.theater.show("feature.txt") == "the feature"
    assert [(g.name, g.passed, g.exit_code) for g in view.integration.gates] == [
        ("feature-present", True, 0),
        ("readme-intact", True, 0),
    ]
    assert view.integration.gates[1].output_tail == "readme ok\n"
    assert stage.event_types(order.order_id)[-2:] == ["IntegrationStarted", "Integrated"]
    advanced = stage.ledger.read_stream("theater-demo").events[-1]
    assert advanced.type == "MainlineAdvanced"
    assert advanced.data == {"name": "demo", "head": merged, "order_id": order.order_id}
    assert stage.ledger.get_theater("demo").head == merged
    assert "task.md" not in git(stage.theater.path, "ls-tree", "-r", "--name-only", merged)


def test_a_failing_gate_leaves_the_mainline_untouched_and_keeps_its_output(
    stage: Stage, integrator: Integrator, vault: VaultClient
) -> None:
    stage.theater.commit_on_mainline({".ironclaw.toml": FAILING_GATES}, "add gates")
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "the feature\n"})
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    assert stage.theater.head() == before
    view = stage.order(order)
    assert view.status is OrderStatus.INTEGRATION_FAILED
    integration = view.integration
    assert integration is not None
    assert integration.reason == "gate 'tests' failed with exit code 3"
    assert [(g.name, g.passed, g.exit_code) for g in integration.gates] == [
        ("lint", True, 0),
        ("tests", False, 3),
    ]
    assert integration.output_tail.endswith("test line 400\nFAILED: feature broken\n")
    assert 1900 <= len(integration.output_tail) <= 2000
    assert integration.artifact is not None
    full_output = vault.read_artifact(integration.artifact).decode()
    assert full_output.startswith("test line 1\ntest line 2\n")
    assert full_output.endswith(integration.output_tail)
    assert "Integrated" not in stage.event_types(order.order_id)
    assert stage.event_types("theater-demo") == ["TheaterRegistered"]


def test_a_gate_that_overruns_its_timeout_is_killed_and_fails(
    stage: Stage, integrator: Integrator
) -> None:
    gates = '[[gates]]\nname = "slow"\nrun = "echo starting; sleep 30 & wait"\ntimeout_s = 0.5\n'
    stage.theater.commit_on_mainline({".ironclaw.toml": gates}, "add a slow gate")
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason == "gate 'slow' timed out after 0.5s"
    (gate,) = integration.gates
    assert (gate.passed, gate.exit_code, gate.output_tail) == (False, None, "starting\n")
    assert gate.duration_s < 10
    assert stage.theater.head() == before


def test_without_ironclaw_toml_only_the_structural_checks_run(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})

    assert integrator.integrate_order(order.request()) is Disposition.INTEGRATED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.gates == []
    assert integration.merged_commit == stage.theater.head() == order.commits[-1]


def test_a_gate_sees_no_fleet_secrets(
    stage: Stage, integrator: Integrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IRONCLAW_INTERNAL_TOKEN", "very-secret-token")
    gates = '[[gates]]\nname = "env"\nrun = "env; exit 1"\n'
    stage.theater.commit_on_mainline({".ironclaw.toml": gates}, "add an env gate")
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert "PATH=" in integration.output_tail
    assert "very-secret-token" not in integration.output_tail
    assert "IRONCLAW_" not in integration.output_tail


def test_an_invalid_gate_config_fails_the_integration_with_what_is_wrong(
    stage: Stage, integrator: Integrator
) -> None:
    gates = '[[gates]]\nname = "tests"\ncommand = "pytest"\n'
    stage.theater.commit_on_mainline({".ironclaw.toml": gates}, "a typo in the gates")
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason.startswith("invalid .ironclaw.toml: gates.0.run: Field required")
    assert "gates.0.command: Extra inputs are not permitted" in integration.reason
    assert stage.theater.head() == before


def test_a_dirty_worktree_fails_the_integration(stage: Stage, integrator: Integrator) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    assert order.worktree is not None
    (order.worktree / "forgotten.txt").write_text("never committed\n")
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason == "the worktree has uncommitted changes"
    assert integration.output_tail == "?? forgotten.txt"
    assert stage.theater.head() == before


def test_a_commit_missing_from_the_repository_fails_the_integration(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.start(order)
    real = stage.commit(order, {"feature.txt": "x\n"})
    stage.complete(order, commits=[real, "0123456789abcdef0123456789abcdef01234567"])
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason == (
        "commits of the attempt missing from the theater repository: "
        "0123456789abcdef0123456789abcdef01234567"
    )
    assert stage.theater.head() == before


def test_an_attempt_on_an_old_mainline_is_rebased_and_integrated_on_top(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.start(order)
    stage.commit(order, {"feature.txt": "x\n"}, subject="add the feature")
    stage.complete(order)
    moved = stage.theater.commit_on_mainline({"other.txt": "meanwhile\n"}, "someone else's change")

    assert integrator.integrate_order(order.request()) is Disposition.INTEGRATED

    integration = stage.order(order).integration
    assert integration is not None
    merged = integration.merged_commit
    assert merged == stage.theater.head()
    assert merged != order.commits[-1]  # rebased: a new commit
    assert git(stage.theater.path, "rev-parse", f"{merged}^") == moved
    assert stage.theater.subjects() == [
        "initial commit",
        "someone else's change",
        "add the feature",
    ]
    assert stage.theater.show("other.txt") == "meanwhile"
    assert stage.theater.show("feature.txt") == "x"
    message = git(stage.theater.path, "log", "-1", "--format=%B", merged)
    assert f"Order-Id: {order.order_id}" in message
    assert "Attempt: 1" in message


def test_a_change_conflicting_with_the_mainline_fails_and_leaves_it_untouched(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("readme")
    stage.finish(order, {"README.md": "# demo\n\nthe attempt's first line\n"})
    moved = stage.theater.commit_on_mainline(
        {"README.md": "# demo\n\nthe mainline's first line\n"}, "edit the readme"
    )

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason == "conflicts with mainline"
    assert "README.md" in integration.output_tail
    assert stage.theater.head() == moved
    assert order.worktree is not None
    assert git(order.worktree, "status", "--porcelain") == ""  # the rebase was undone
    assert git(order.worktree, "rev-parse", "HEAD") == order.commits[-1]


def test_an_attempt_with_no_commits_integrates_without_moving_the_mainline(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("nothing")
    stage.start(order)
    stage.complete(order)
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.INTEGRATED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.merged_commit == before == stage.theater.head()
    assert stage.event_types("theater-demo") == ["TheaterRegistered"]


def test_an_order_not_waiting_for_integration_is_skipped(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.start(order)  # running, not completed
    version = stage.order(order).version

    assert integrator.integrate_order(order.request()) is Disposition.SKIPPED

    order.attempt = 2  # a message about an attempt that was never issued
    assert integrator.integrate_order(order.request()) is Disposition.SKIPPED
    assert stage.order(order).version == version


def test_a_folder_that_is_no_worktree_fails_the_integration(
    stage: Stage, integrator: Integrator
) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    assert order.worktree is not None
    git(stage.theater.path, "worktree", "remove", "--force", str(order.worktree))
    order.worktree.mkdir(parents=True)  # a plain folder where the worktree was
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason == (
        f"the attempt's worktree {order.worktree} is not a usable git worktree"
    )
    assert stage.theater.head() == before


def test_a_worktree_of_another_repository_is_never_rebased(
    stage: Stage, integrator: Integrator, tmp_path: Path
) -> None:
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "x\n"})
    assert order.worktree is not None
    git(stage.theater.path, "worktree", "remove", "--force", str(order.worktree))
    git(tmp_path, "clone", "-q", str(stage.theater.path), str(order.worktree))
    before = stage.theater.head()

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.reason == (
        f"the attempt's worktree {order.worktree} is not a worktree of the theater"
    )
    assert stage.theater.head() == before


LEAKY_GATES = """
[[gates]]
name = "leaky"
run = "echo using token sk-abcdefghijklmnopqrstuvwx; exit 1"
"""


def test_a_failing_gates_output_keeps_no_token_in_the_event_or_the_artifact(
    stage: Stage, integrator: Integrator, vault: VaultClient
) -> None:
    stage.theater.commit_on_mainline({".ironclaw.toml": LEAKY_GATES}, "add a leaky gate")
    (order,) = stage.plan_run("feature")
    stage.finish(order, {"feature.txt": "the feature\n"})

    assert integrator.integrate_order(order.request()) is Disposition.FAILED

    integration = stage.order(order).integration
    assert integration is not None
    assert integration.output_tail == "using token [REDACTED]\n"
    assert integration.gates[0].output_tail == "using token [REDACTED]\n"
    assert integration.artifact is not None
    assert vault.read_artifact(integration.artifact) == b"using token [REDACTED]\n"
