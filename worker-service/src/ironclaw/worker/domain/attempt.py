"""One claimed attempt: worktree, engine under a heartbeat, commit, AAR, settling event."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import TypedDict

from pydantic import ValidationError

from ironclaw.contracts import events as ev
from ironclaw.contracts.api import OrderView, WorktreeRequest, WorktreeView
from ironclaw.contracts.clients.ledger import LedgerError
from ironclaw.contracts.clients.vault import VaultError
from ironclaw.contracts.kit.git import GitError
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.models import OrderStatus
from ironclaw.contracts.tasks import ExecuteOrder
from ironclaw.worker.domain import commits
from ironclaw.worker.domain.engine import (
    Engine,
    EngineContext,
    EngineResult,
    EngineUnavailable,
    OrderSpec,
    ToolUse,
    choose_engine,
)
from ironclaw.worker.domain.ports import AttemptServices, event_metadata
from ironclaw.worker.domain.profiles import ProfileRefused, budget_with_profile, resolve_profile
from ironclaw.worker.domain.report import after_action_report, settling_event
from ironclaw.worker.domain.run_budget import RunBudgetSpent, within_run_budget
from ironclaw.worker.domain.running import Heartbeat, ProgressBoard, heartbeat_interval, run_bounded
from ironclaw.worker.domain.task_file import render_task_md
from ironclaw.worker.domain.theater_config import (
    InvalidTheaterConfig,
    TheaterConfig,
    read_theater_config,
)

LIVE_STATUSES = frozenset({OrderStatus.CLAIMED, OrderStatus.RUNNING})


class AttemptIds(TypedDict):
    order_id: str
    run_id: str
    attempt: int


def order_spec(order: OrderView) -> OrderSpec:
    """The part of an Order an engine works from."""
    return OrderSpec(
        key=order.key,
        objective=order.objective,
        success_criteria=list(order.success_criteria),
        commands=list(order.commands),
        budget=order.budget,
    )


def failure(reason: str, *, retryable: bool) -> EngineResult:
    """A failed result that never reached (or never got back from) an engine."""
    return EngineResult(outcome="failed", summary=reason, reason=reason, retryable=retryable)


class Attempt:
    """One attempt this worker claimed, carried through to its settling event."""

    def __init__(
        self,
        message: ExecuteOrder,
        order: OrderView,
        services: AttemptServices,
        *,
        claimed_at: float,
    ) -> None:
        self.message = message
        self.order = order
        self.services = services
        self.claimed_at = claimed_at
        self.spec = order_spec(order)
        self.engine_name = choose_engine(order.engine, list(order.commands))
        self.stream = ev.order_stream(order.order_id)
        self.log = get_logger()
        self.theater_config = TheaterConfig()
        self.profile_name: str | None = None

    def run(self) -> str:
        """Run the attempt and append how it ended; returns the outcome, or `refused` when
        the ledger would not take it (the order was cancelled or reissued meanwhile)."""
        try:
            return self._run()
        except Exception as error:
            self.log.exception("worker.attempt.crashed")
            return self._settle(failure(f"the worker failed: {error!r}", retryable=True), None)

    def _run(self) -> str:
        try:
            engine = self._engine()
        except (EngineUnavailable, InvalidTheaterConfig, ProfileRefused, RunBudgetSpent) as error:
            return self._settle(failure(str(error), retryable=False), None)
        try:
            view = self._worktree()
        except Exception as error:  # vault down or refusing: the attempt cannot start
            self.log.warning("worker.worktree.unavailable", error=str(error))
            return self._settle(failure(f"no worktree: {error}", retryable=True), None)
        self._append(
            ev.AttemptStarted(
                **self._ids(),
                branch=view.branch,
                worktree=view.path,
                base_commit=view.base_commit,
                engine=self.engine_name,
            )
        )
        self.log.info("worker.attempt.started", engine=self.engine_name, worktree=view.path)
        return self._settle(self._work(engine, view), view)

    def _engine(self) -> Engine:
        """The engine the Order's profile (as its theater amends it) asks for, set up for it."""
        self.theater_config = self._read_theater_config()
        profile = resolve_profile(
            self.order.profile,
            task_type=self.order.task_type,
            profiles=self.services.profiles,
            overrides=self.theater_config.profiles,
        )
        budget = budget_with_profile(self.spec.budget, profile)
        budget = within_run_budget(self.services.ledger, self.order.run_id, budget)
        self.spec = dataclasses.replace(self.spec, budget=budget)
        self.engine_name = choose_engine(self.order.engine, list(self.order.commands), profile)
        if profile is None:
            return self.services.load_engine(self.engine_name)
        self.profile_name = profile.name
        self.log.info("worker.attempt.profile", profile=profile.name, engine=self.engine_name)
        return self.services.load_engine(self.engine_name, profile)

    def _work(self, engine: Engine, view: WorktreeView) -> EngineResult:
        """Run the engine under a heartbeat, then commit what it changed."""
        board, stop = ProgressBoard(), threading.Event()
        context = EngineContext(
            worktree=Path(view.path),
            spec=self.spec,
            deadline=self.claimed_at + self.spec.budget.ttl_s,
            signal=board.update,
            record_tool=self._record_tool,
            stop=stop,
            allowed_programs=self.allowed_programs,
            store_artifact=self._store_artifact,
        )
        interval = heartbeat_interval(
            self.services.heartbeat_interval_s, self.spec.budget.heartbeat_timeout_s
        )
        with Heartbeat(lambda: self._beat(board, stop), interval):
            limit = context.remaining_s() + self.services.engine_grace_s
            result, returned = run_bounded(engine, context, limit)
            if returned:
                result = self._commit(result, view)
        return result

    def _commit(self, result: EngineResult, view: WorktreeView) -> EngineResult:
        message = commits.commit_message(
            self.spec.key,
            result.summary or result.reason or self.spec.objective,
            run_id=self.order.run_id,
            order_id=self.order.order_id,
            attempt=self.message.attempt,
        )
        try:
            commit = commits.commit_changes(
                Path(view.path),
                repository=Path(view.repository),
                branch=view.branch,
                message=message,
            )
        except (GitError, commits.BranchMoved) as error:
            reason = f"the attempt's work could not be committed: {error}"
            return dataclasses.replace(result, outcome="failed", reason=reason, retryable=False)
        self.log.info("worker.attempt.committed", commit=commit)
        return result

    def _settle(self, result: EngineResult, view: WorktreeView | None) -> str:
        """Append `OrderCompleted` / `OrderFailed` / `OrderBlocked` with the AAR."""
        made, changed = self._history(view)
        aar = after_action_report(
            result,
            commits=made,
            changed_files=changed,
            duration_s=time.monotonic() - self.claimed_at,
            engine=self.engine_name,
            profile=self.profile_name,
        )
        branch = view.branch if view else ""
        event = settling_event(result, aar, branch=branch, **self._ids())
        try:
            self._append(event)
        except LedgerError as error:
            if error.status >= 500:
                raise
            self.log.warning("worker.attempt.report_refused", detail=error.detail)
            return "refused"
        self.log.info("worker.attempt.settled", outcome=result.outcome, reason=result.reason)
        return result.outcome

    def _history(self, view: WorktreeView | None) -> tuple[list[str], list[str]]:
        if view is None:
            return [], []
        try:
            worktree = Path(view.path)
            return (
                commits.commits_since(worktree, view.base_commit),
                commits.changed_files(worktree, view.base_commit),
            )
        except GitError as error:
            self.log.warning("worker.attempt.history_unreadable", error=str(error))
            return [], []

    def _beat(self, board: ProgressBoard, stop: threading.Event) -> None:
        """One heartbeat: a Signal with the latest progress; stop when the attempt is not ours."""
        progress = board.latest()
        fraction = None if progress.progress is None else min(1.0, max(0.0, progress.progress))
        self._append(
            ev.SignalEmitted(
                order_id=self.order.order_id,
                attempt=self.message.attempt,
                progress=fraction,
                note=progress.note[:500],
                tool_calls=progress.tool_calls,
                files_changed=progress.files_changed,
                tokens=progress.tokens,
                lease_s=self.spec.budget.heartbeat_timeout_s,
            )
        )
        current = self.services.ledger.get_order(self.order.order_id)
        if current.attempt != self.message.attempt or current.status not in LIVE_STATUSES:
            self.log.info("worker.attempt.stop_requested", status=current.status.value)
            stop.set()

    def _record_tool(self, use: ToolUse) -> None:
        try:
            self._append(
                ev.ToolCalled(
                    order_id=self.order.order_id,
                    attempt=self.message.attempt,
                    tool=use.tool,
                    arguments_summary=use.arguments_summary[:2000],
                    duration_ms=use.duration_ms,
                    result_size=use.result_size,
                    refused=use.refused,
                )
            )
        except Exception:  # the audit line is lost, the attempt goes on
            self.log.warning("worker.tool_called.unrecorded", tool=use.tool, exc_info=True)

    def _store_artifact(self, name: str, content: bytes) -> str | None:
        """Keep `content` (secrets redacted) as `<order>-<attempt>-<name>`; None if it cannot."""
        if self.services.artifacts is None:
            return None
        full_name = f"{self.order.order_id}-{self.message.attempt}-{name}"
        try:
            stored = self.services.artifacts.store_artifact(
                full_name, self.services.redactor.bytes(content)
            )
        except Exception:  # the AAR still says how it went: the output is what is lost
            self.log.warning("worker.artifact.store_failed", artifact_name=full_name, exc_info=True)
            return None
        self.log.info("worker.artifact.stored", artifact_name=full_name, artifact=stored)
        return stored

    def _redacted(self, payload: ev.EventPayload) -> ev.EventPayload:
        """`payload` with known secrets redacted; as it is when redaction would break one of its
        ids or names (a "secret" that common is no secret), said in the log."""
        try:
            redacted: ev.EventPayload = self.services.redactor.model(payload)
        except ValidationError:
            self.log.warning("worker.redaction.skipped", event_type=type(payload).__name__)
            return payload
        return redacted

    def _append(self, payload: ev.EventPayload) -> None:
        """Append to the order's stream, with every secret the worker knows redacted."""
        metadata = event_metadata(self.message, self.services.worker_id)
        event = ev.NewEvent.of(self._redacted(payload), metadata=metadata)
        self.services.ledger.append(self.stream, [event], expected_version=None)

    def _ids(self) -> AttemptIds:
        return {
            "order_id": self.order.order_id,
            "run_id": self.order.run_id,
            "attempt": self.message.attempt,
        }

    def _worktree(self) -> WorktreeView:
        """The attempt's worktree: from the rescued work of an earlier attempt when the Order
        was reissued with one, else from the mainline.

        A rescue start puts commits that are not on the mainline below the worktree's start;
        they are unfolded into uncommitted changes on the fork point from the mainline, so the
        attempt's one commit (and so what integration promotes) holds the rescued work under
        this attempt's trailers.
        """
        start_from = self._rescue_ref()
        if start_from is None:
            return self.services.worktrees.create(self._worktree_request(None))
        try:
            view = self.services.worktrees.create(self._worktree_request(start_from))
        except VaultError as error:
            if error.status != 422:
                raise
            # The rescue names no commit any more: its work is gone either way.
            self.log.warning("worker.rescue.unusable", rescue_ref=start_from, error=error.detail)
            return self.services.worktrees.create(self._worktree_request(None))
        mainline = self.services.ledger.get_theater(self.order.theater).mainline
        base = commits.fork_point(Path(view.path), mainline)
        commits.unfold_onto(Path(view.path), repository=Path(view.repository), base=base)
        self.log.info("worker.attempt.rescue_start", rescue_ref=start_from, base_commit=base)
        return view.model_copy(update={"base_commit": base})

    @property
    def allowed_programs(self) -> tuple[str, ...]:
        """What `run_command` may start: the theater's `[policy] allow`, else the worker's."""
        return self.theater_config.policy.allowed(self.services.allowed_programs)

    def _read_theater_config(self) -> TheaterConfig:
        """The theater's `.ironclaw.toml` on its mainline; defaults when the ledger does not
        know the theater or its repository is not on this host."""
        try:
            theater = self.services.ledger.get_theater(self.order.theater)
        except LedgerError as error:
            if error.status >= 500:
                raise
            return TheaterConfig()
        repository = Path(theater.path)
        if theater.head is None:
            return TheaterConfig()
        if not repository.exists():
            self.log.warning("worker.theater.config_unreachable", repository=theater.path)
            return TheaterConfig()
        return read_theater_config(repository, theater.mainline)

    def _rescue_ref(self) -> str | None:
        """The rescue ref this attempt was issued with (`OrderIssued.rescue_ref`), if any."""
        current = next((a for a in self.order.attempts if a.attempt == self.message.attempt), None)
        return current.rescue_ref if current is not None else None

    def _worktree_request(self, start_from: str | None) -> WorktreeRequest:
        return WorktreeRequest(
            theater=self.order.theater,
            order_id=self.order.order_id,
            run_id=self.order.run_id,
            attempt=self.message.attempt,
            task_md=render_task_md(
                self.spec,
                order_id=self.order.order_id,
                run_id=self.order.run_id,
                attempt=self.message.attempt,
                engine=self.engine_name,
                allowed_programs=self.allowed_programs,
                resumed_from=start_from,
            ),
            state={
                "order_id": self.order.order_id,
                "run_id": self.order.run_id,
                "attempt": self.message.attempt,
                "key": self.spec.key,
                "engine": self.engine_name,
                "worker_id": self.services.worker_id,
                "status": "running",
                "start_from": start_from,
            },
            start_from=start_from,
        )
