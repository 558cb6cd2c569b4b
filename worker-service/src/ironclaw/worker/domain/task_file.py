"""The order files vault writes into a worktree: `.ironclaw/task.md` and `.ironclaw/state.json`."""

from __future__ import annotations

from collections.abc import Sequence

from ironclaw.worker.domain.engine import OrderSpec

RULES_OF_ENGAGEMENT = (
    "Work only inside this worktree; paths outside it are refused.",
    "Never write into `.git` or `.ironclaw`.",
    "Do not commit: the worker commits your changes when you finish.",
    "Commands run without a shell and without the fleet's secrets in their environment.",
    "Finish by reporting an outcome (completed, failed or blocked) and a summary.",
)


def render_task_md(
    spec: OrderSpec,
    *,
    order_id: str,
    run_id: str,
    attempt: int,
    engine: str,
    allowed_programs: Sequence[str] = (),
    resumed_from: str | None = None,
) -> str:
    """The task as markdown: objective, success criteria, commands, ROE and budget; and, for an
    attempt started from an earlier one's rescued work, a word that it is already here."""
    lines = [
        f"# Order {spec.key}",
        "",
        f"Order `{order_id}`, attempt {attempt}, run `{run_id}`, engine `{engine}`.",
        "",
    ]
    if resumed_from is not None:
        lines += [
            f"This worktree starts from the work an earlier attempt left (saved to "
            f"`{resumed_from}`): continue from it rather than starting over.",
            "",
        ]
    lines += [
        "## Objective",
        "",
        spec.objective,
        "",
        "## Success criteria",
        "",
        *_bullets(spec.success_criteria, "(none given: the objective is met)"),
        "",
    ]
    if spec.commands:
        lines += ["## Commands", "", *(f"{n}. `{c}`" for n, c in enumerate(spec.commands, 1)), ""]
    rules = list(RULES_OF_ENGAGEMENT)
    if allowed_programs:
        rules.insert(-1, f"Programs you may run: {', '.join(allowed_programs)}.")
    budget = spec.budget
    lines += [
        "## Rules of engagement",
        "",
        *_bullets(rules, ""),
        "",
        "## Budget",
        "",
        f"- wall time: {budget.ttl_s} s",
        f"- tokens: {budget.tokens or 'unlimited'}",
        f"- tool calls: {budget.tool_calls or 'unlimited'}",
        f"- cost: {f'{budget.cost_usd} USD' if budget.cost_usd else 'unlimited'}",
        "",
    ]
    return "\n".join(lines)


def _bullets(items: Sequence[str], empty: str) -> list[str]:
    return [f"- {item}" for item in items] if items else [empty]
