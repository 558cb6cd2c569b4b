"""Promotion of one attempt under its theater's lock: checks, rebase, gates, fast-forward.

While the lock is held nobody else moves the mainline or touches the theater's worktrees, so the
mainline the attempt was rebased onto and gated against is the one the fast-forward replaces.
"""

from __future__ import annotations

from ironclaw.contracts.kit.git import GitError, theater_lock
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.models import GateResult
from ironclaw.integration.adapters.gate_runner import run_gate
from ironclaw.integration.adapters.repository import AttemptWorktree, TheaterRepository
from ironclaw.integration.domain.gates import (
    CONFIG_FILE,
    Gate,
    GateRun,
    InvalidGateConfig,
    parse_gates,
    tail,
)
from ironclaw.integration.domain.review import (
    AttemptUnderReview,
    GatePolicy,
    Outcome,
    Promoted,
    Refused,
)

# Under the lock the compare-and-set cannot lose; a process moving the mainline without the
# lock could make it, and then the attempt is rebased and gated again, a bounded number of times.
MAX_ROUNDS = 3

log = get_logger(__name__)


def promote(
    review: AttemptUnderReview, repository: TheaterRepository, policy: GatePolicy
) -> Outcome:
    """Put the attempt on the theater's mainline, or say why it may not go there."""
    with theater_lock(repository.path):
        merged = repository.find_merged(review.order_id, review.attempt, review.base_commit)
        if merged is not None:
            # An integrator died between moving the mainline and recording it: record, not redo.
            log.info("integration.order.recovered", merged_commit=merged)
            at_head = repository.mainline_head() == merged
            return Promoted(merged, mainline_advanced=at_head, recovered=True)
        worktree = AttemptWorktree(review.worktree) if review.worktree else None
        problem = structural_problem(review, repository, worktree)
        if problem is not None:
            return problem
        assert worktree is not None
        return _rebase_gate_and_advance(worktree, repository, policy)


def structural_problem(
    review: AttemptUnderReview, repository: TheaterRepository, worktree: AttemptWorktree | None
) -> Refused | None:
    """What makes the attempt unfit for promotion before any gate runs, if anything.

    A rebase that a crashed integrator left half done in the worktree is undone first.
    """
    if review.aar is None:
        return Refused("the attempt has no after-action report")
    if review.aar.outcome != "completed":
        return Refused(f"the attempt's after-action report says {review.aar.outcome!r}")
    missing = [commit for commit in review.commits if not repository.has_commit(commit)]
    if missing:
        return Refused(
            f"commits of the attempt missing from the theater repository: {', '.join(missing)}"
        )
    if worktree is None:
        return Refused("the ledger records no worktree for the attempt")
    if not worktree.exists():
        return Refused(f"the attempt's worktree {worktree.path} does not exist")
    try:
        if not worktree.belongs_to(repository):
            return Refused(
                f"the attempt's worktree {worktree.path} is not a worktree of the theater"
            )
        if worktree.abort_unfinished_rebase():
            log.warning("integration.rebase.aborted_leftover", worktree=str(worktree.path))
        dirty = worktree.uncommitted_paths()
    except GitError as error:
        return Refused(
            f"the attempt's worktree {worktree.path} is not a usable git worktree",
            output=error.output,
        )
    if dirty:
        return Refused("the worktree has uncommitted changes", output="\n".join(dirty))
    return None


def _rebase_gate_and_advance(
    worktree: AttemptWorktree, repository: TheaterRepository, policy: GatePolicy
) -> Outcome:
    for _ in range(MAX_ROUNDS):
        base = repository.mainline_head()
        try:
            gates = _gates_on(repository, base)
        except InvalidGateConfig as error:
            return Refused(str(error))
        conflict = worktree.rebase_onto(base)
        if conflict is not None:
            return Refused("conflicts with mainline", output=conflict.output)
        head = worktree.head()
        results, failed = _run_gates(gates, worktree, policy)
        if failed is not None:
            return Refused(
                failed.failure_reason, gates=results, output=failed.output, failed_gate=failed.name
            )
        if head == base:
            return Promoted(base, gates=results, mainline_advanced=False)
        if repository.advance_mainline(head, base):
            log.info("integration.mainline.advanced", head=head, previous=base)
            return Promoted(head, gates=results)
        log.warning("integration.mainline.moved", expected=base)
    return Refused(f"the mainline moved during integration {MAX_ROUNDS} times in a row")


def _gates_on(repository: TheaterRepository, commit: str) -> list[Gate]:
    text = repository.read_file(commit, CONFIG_FILE)
    return parse_gates(text) if text is not None else []


def _run_gates(
    gates: list[Gate], worktree: AttemptWorktree, policy: GatePolicy
) -> tuple[tuple[GateResult, ...], GateRun | None]:
    """Run the gates in order until one fails; their results, and the failed run if any."""
    results: list[GateResult] = []
    for gate in gates:
        run = run_gate(
            gate,
            worktree.path,
            default_timeout_s=policy.default_timeout_s,
            max_output_bytes=policy.max_output_bytes,
        )
        results.append(
            GateResult(
                name=run.name,
                passed=run.passed,
                exit_code=run.exit_code,
                duration_s=run.duration_s,
                output_tail=tail(run.output, policy.tail_chars),
            )
        )
        log.info(
            "integration.gate.finished",
            gate=run.name,
            passed=run.passed,
            exit_code=run.exit_code,
            duration_s=run.duration_s,
        )
        if not run.passed:
            return tuple(results), run
    return tuple(results), None
