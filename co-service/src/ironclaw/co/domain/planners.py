"""METE: how a Run is planned. Explicit orders, else a requested playbook, else a model, else
the playbook matcher (a model that fails falls back to the matcher, saying why)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ironclaw.co.domain.classify import classify
from ironclaw.co.domain.drafts import OrderDraft, PlanError, checked_plan
from ironclaw.co.domain.model_planning import ModelUnavailable, PlanModel, plan_with_model
from ironclaw.co.domain.playbooks import Playbook, load_playbooks
from ironclaw.contracts.events import RunReceived
from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.models import RequestedOrder

log = get_logger()


@dataclass(frozen=True)
class Plan:
    """A checked plan (dependency-first), who made it, and why it looks like this."""

    planner: str
    drafts: list[OrderDraft]
    rationale: str


def draft_of(order: RequestedOrder) -> OrderDraft:
    """An explicit Order of `POST /runs` as a draft."""
    return OrderDraft(
        key=order.key,
        objective=order.objective,
        success_criteria=tuple(order.success_criteria),
        depends_on=tuple(order.depends_on),
        engine=order.engine,
        profile=order.profile,
        commands=tuple(order.commands),
        budget=order.budget,
    )


class RunPlanner:
    """Plans Runs from explicit orders, a model (when given) or the playbooks in a folder."""

    def __init__(self, *, playbooks_dir: Path, model: PlanModel | None = None) -> None:
        self._playbooks_dir = playbooks_dir
        self._model = model

    def planner_for(self, run: RunReceived) -> str:
        """The planner that will try first, as `RunPlanningStarted` records it."""
        if run.requested_orders:
            return "explicit"
        if run.playbook:
            return f"playbook:{run.playbook}"
        if self._model is not None:
            return f"model:{self._model.name}"
        return "playbook"

    def plan(self, run: RunReceived) -> Plan:
        """The Run's plan; `PlanError` when it cannot be planned."""
        if run.requested_orders:
            drafts = checked_plan([draft_of(order) for order in run.requested_orders])
            return Plan("explicit", drafts, f"{len(drafts)} orders given with the run")
        if run.playbook:
            playbook = load_playbooks(self._playbooks_dir).find(run.playbook)
            return self._from_playbook(run, playbook, "playbook requested with the run")
        fallback = ""
        if self._model is not None:
            try:
                return self._from_model(run, self._model)
            except (PlanError, ModelUnavailable) as error:
                log.warning("co.plan.model_fallback", model=self._model.name, reason=str(error))
                fallback = f"model planning failed ({error}); fell back to the playbook matcher: "
        try:
            library = load_playbooks(self._playbooks_dir)
        except PlanError as error:
            raise PlanError(f"{fallback}{error}") from None
        for problem in library.problems:
            log.error("co.playbook.refused", problem=problem)
        chosen = classify(run.message, library)
        return self._from_playbook(run, chosen.playbook, fallback + chosen.rationale)

    @staticmethod
    def _from_model(run: RunReceived, model: PlanModel) -> Plan:
        proposed = plan_with_model(model, message=run.message, theater=run.theater)
        rationale = proposed.rationale or "planned by the model"
        if proposed.attempts > 1:
            rationale += f" (accepted on attempt {proposed.attempts})"
        return Plan(f"model:{model.name}", proposed.drafts, rationale)

    @staticmethod
    def _from_playbook(run: RunReceived, playbook: Playbook, why: str) -> Plan:
        drafts = checked_plan(playbook.expand(message=run.message, theater=run.theater))
        return Plan(f"playbook:{playbook.ref}", drafts, f"{why}; {playbook.description}")
