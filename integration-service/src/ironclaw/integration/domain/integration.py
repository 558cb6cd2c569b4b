"""`integration.integrate_order`: settle a completed attempt as `Integrated` or `IntegrationFailed`.

Idempotent: it reads the order first and acts only when the order is `completed` (or
`integrating` after a crash) at the message's attempt and every order planned before it is
settled; `IntegrationStarted` at the order's version decides which of several integrators acts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView
from ironclaw.contracts.clients.ledger import (
    LedgerClient,
    LedgerConflict,
    LedgerError,
    LedgerNotFound,
)
from ironclaw.contracts.kit.logging import bound_context, get_logger
from ironclaw.contracts.kit.secrets import Redactor
from ironclaw.contracts.models import OrderStatus
from ironclaw.contracts.tasks import IntegrateOrder
from ironclaw.integration.adapters.repository import TheaterRepository
from ironclaw.integration.domain.gates import tail
from ironclaw.integration.domain.plan import orders_before, plan_order, unsettled
from ironclaw.integration.domain.ports import ArtifactStore, WorktreeJanitor
from ironclaw.integration.domain.promotion import promote
from ironclaw.integration.domain.review import (
    AttemptUnderReview,
    GatePolicy,
    Outcome,
    Promoted,
    Refused,
)

INTEGRABLE = frozenset({OrderStatus.COMPLETED, OrderStatus.INTEGRATING})
REFUSALS = frozenset({409, 422})  # a stale attempt, an event that no longer fits the order

log = get_logger(__name__)


class Disposition(StrEnum):
    """What one delivery of `integration.integrate_order` did."""

    SKIPPED = "skipped"  # the order is not (or no longer) waiting for integration at this attempt
    DEFERRED = "deferred"  # an order planned before it is not settled yet
    TAKEN = "taken"  # another integrator got there first
    INTEGRATED = "integrated"
    FAILED = "integration_failed"


@dataclass
class Integrator:
    """Promotes accepted attempts to their theater's mainline, recording the outcome."""

    ledger: LedgerClient
    artifacts: ArtifactStore
    janitor: WorktreeJanitor | None = None
    policy: GatePolicy = field(default_factory=GatePolicy)
    redactor: Redactor = field(default_factory=Redactor)  # gate output keeps no secret

    def integrate_order(self, request: IntegrateOrder) -> Disposition:
        """Handle one `IntegrateOrder` message."""
        with bound_context(
            run_id=request.run_id, order_id=request.order_id, attempt=request.attempt
        ):
            return self._integrate(request)

    def _integrate(self, request: IntegrateOrder) -> Disposition:
        try:
            order = self.ledger.get_order(request.order_id)
        except LedgerNotFound:
            log.warning("integration.order.skipped", reason="no such order")
            return Disposition.SKIPPED
        if order.attempt != request.attempt or order.status not in INTEGRABLE:
            log.info(
                "integration.order.skipped",
                status=order.status.value,
                current_attempt=order.attempt,
            )
            return Disposition.SKIPPED
        waiting_for = self._unsettled_predecessors(order)
        if waiting_for:
            log.info("integration.order.deferred", waiting_for=waiting_for)
            return Disposition.DEFERRED
        started = ev.IntegrationStarted(
            order_id=order.order_id, run_id=order.run_id, attempt=request.attempt
        )
        try:
            version = self.ledger.append(
                order.order_id, [started], expected_version=order.version
            ).version
        except LedgerConflict:
            log.info("integration.order.taken", stage="start")
            return Disposition.TAKEN
        log.info("integration.order.started", status=order.status.value)
        theater = self.ledger.get_theater(order.theater)
        repository = TheaterRepository(Path(theater.path), theater.mainline)
        outcome = promote(AttemptUnderReview.of(order, request.attempt), repository, self.policy)
        disposition = self._settle(order, request.attempt, version, outcome)
        if disposition is not Disposition.TAKEN:
            self._remove_worktree(order.order_id, request.attempt)
        return disposition

    def _unsettled_predecessors(self, order: OrderView) -> list[str]:
        try:
            run_events = self.ledger.read_stream(order.run_id).events
        except LedgerNotFound:
            return []
        before = orders_before(order.order_id, plan_order(run_events))
        if not before:
            return []
        listed = self.ledger.iter_orders(run_id=order.run_id)
        return unsettled(before, {o.order_id: o.status for o in listed})

    def _settle(
        self, order: OrderView, attempt: int, version: int, outcome: Outcome
    ) -> Disposition:
        if isinstance(outcome, Promoted):
            return self._record_integrated(order, attempt, version, outcome)
        return self._record_failed(order, attempt, version, outcome)

    def _record_integrated(
        self, order: OrderView, attempt: int, version: int, outcome: Promoted
    ) -> Disposition:
        integrated = ev.Integrated(
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=attempt,
            theater=order.theater,
            merged_commit=outcome.merged_commit,
            gates=list(outcome.gates),
        )
        appends = [self.ledger.request(order.order_id, [integrated], expected_version=version)]
        if outcome.mainline_advanced:
            advanced = ev.MainlineAdvanced(
                name=order.theater, head=outcome.merged_commit, order_id=order.order_id
            )
            stream = ev.theater_stream(order.theater)
            appends.append(self.ledger.request(stream, [advanced], expected_version=None))
        if not self._append_settlement(lambda: self.ledger.append_batch(appends), outcome):
            return Disposition.TAKEN
        log.info(
            "integration.order.integrated",
            merged_commit=outcome.merged_commit,
            recovered=outcome.recovered,
        )
        return Disposition.INTEGRATED

    def _record_failed(
        self, order: OrderView, attempt: int, version: int, outcome: Refused
    ) -> Disposition:
        output = self.redactor.text(outcome.output)
        artifact = self._keep_output(order.order_id, attempt, outcome, output)
        gates = [
            gate.model_copy(update={"output_tail": self.redactor.text(gate.output_tail)})
            for gate in outcome.gates
        ]
        failed = ev.IntegrationFailed(
            order_id=order.order_id,
            run_id=order.run_id,
            attempt=attempt,
            reason=outcome.reason,
            gates=gates,
            output_tail=tail(output, self.policy.tail_chars),
            artifact=artifact,
        )
        settled = self._append_settlement(
            lambda: self.ledger.append(order.order_id, [failed], expected_version=version),
            outcome,
        )
        if not settled:
            return Disposition.TAKEN
        log.info("integration.order.failed", reason=outcome.reason, artifact=artifact)
        return Disposition.FAILED

    def _append_settlement(self, append: Callable[[], object], outcome: Outcome) -> bool:
        """Run `append`; False when another integrator moved the order on meanwhile."""
        try:
            append()
        except LedgerConflict:
            log.warning("integration.order.taken", stage="settle", outcome=type(outcome).__name__)
            return False
        except LedgerError as error:
            if error.status not in REFUSALS:
                raise  # the ledger is unreachable or broken: a redelivery will record it
            # e.g. the order was cancelled while its gates ran: the ledger refuses the outcome.
            log.error(
                "integration.order.settle_refused",
                status=error.status,
                detail=error.detail,
                outcome=type(outcome).__name__,
                merged_commit=getattr(outcome, "merged_commit", None),
            )
            return False
        return True

    def _keep_output(
        self, order_id: str, attempt: int, outcome: Refused, output: str
    ) -> str | None:
        """Store a failed gate's full (redacted) output; None when there is none or the store
        failed."""
        if outcome.failed_gate is None:
            return None
        gate = "".join(c if c.isprintable() else "_" for c in outcome.failed_gate)
        name = f"{order_id}-{attempt}-gate-{gate}.log"
        try:
            return self.artifacts.store_artifact(name, output.encode("utf-8"))
        except Exception:  # the tail still goes into the event: settling matters more
            log.exception("integration.artifact.store_failed", artifact_name=name)
            return None

    def _remove_worktree(self, order_id: str, attempt: int) -> None:
        if self.janitor is None:
            return
        try:
            self.janitor.remove_worktree(order_id, attempt)
        except Exception:  # the observer's patrol finds orphaned worktrees: not worth failing for
            log.exception("integration.worktree.remove_failed")
