"""The After-Action Report of an attempt and the event that settles it."""

from __future__ import annotations

from ironclaw.contracts import events as ev
from ironclaw.contracts.models import AfterActionReport
from ironclaw.worker.domain.engine import EngineResult

SUMMARY_MAX = 20_000


def after_action_report(
    result: EngineResult,
    *,
    commits: list[str],
    changed_files: list[str],
    duration_s: float,
    engine: str | None = None,
    profile: str | None = None,
) -> AfterActionReport:
    """The AAR: the engine's account plus what git says the attempt changed."""
    summary = result.summary or result.reason or result.outcome
    blockers = list(result.blockers)
    if result.outcome == "blocked" and not blockers and result.reason:
        blockers.append(result.reason)
    return AfterActionReport(
        outcome=result.outcome,
        summary=_clip(summary, SUMMARY_MAX),
        changed_files=changed_files,
        commits=commits,
        tests_run=list(result.tests_run),
        blockers=blockers,
        discovered_context=list(result.discovered_context),
        tokens=result.tokens,
        cost_usd=max(0.0, result.cost_usd),
        duration_s=round(max(0.0, duration_s), 3),
        tool_calls=result.tool_calls,
        engine=engine,
        profile=profile,
        artifacts=list(result.artifacts),
    )


def settling_event(
    result: EngineResult,
    aar: AfterActionReport,
    *,
    order_id: str,
    run_id: str,
    attempt: int,
    branch: str,
) -> ev.OrderCompleted | ev.OrderFailed | ev.OrderBlocked:
    """`OrderCompleted`, `OrderBlocked` or `OrderFailed`, as the outcome says."""
    ids = {"order_id": order_id, "run_id": run_id, "attempt": attempt}
    if result.outcome == "completed":
        return ev.OrderCompleted(**ids, branch=branch, commits=aar.commits, aar=aar)
    reason = _clip(result.reason or result.summary or result.outcome, 4000)
    if result.outcome == "blocked":
        return ev.OrderBlocked(**ids, reason=reason, aar=aar)
    return ev.OrderFailed(**ids, reason=reason, retryable=result.retryable, aar=aar)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
