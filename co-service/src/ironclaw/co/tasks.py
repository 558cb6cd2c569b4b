"""The co service's Celery tasks: a payload in, the domain call, done."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
from celery import Celery

from ironclaw.co.adapters.chat_model import OpenAIChatModel
from ironclaw.co.config import Settings
from ironclaw.co.domain.planners import RunPlanner
from ironclaw.co.domain.planning import plan_run
from ironclaw.co.domain.settlement import settle_order
from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.kit.logging import bound_context

# A ledger out of reach for the client's own retry window: try the message again later.
RETRY_ON = (httpx.TransportError,)
RETRY_LIMIT = 5


def ledger_for(
    settings: Settings, *, timeout_s: float = 10.0, retry_for_s: float = 30.0
) -> LedgerClient:
    """A ledger client with the service's address and token."""
    return LedgerClient(
        settings.ledger_url,
        token=settings.internal_token,
        timeout_s=timeout_s,
        retry_for_s=retry_for_s,
    )


@contextmanager
def run_planner(settings: Settings) -> Iterator[RunPlanner]:
    """The planner the settings describe: with the model of `IRONCLAW_LLM_*` when set."""
    with ExitStack() as stack:
        model = None
        if settings.llm_base_url and settings.llm_model:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
            model = OpenAIChatModel(
                base_url=settings.llm_base_url,
                model=settings.llm_model,
                api_key=key,
                timeout_s=settings.planner_timeout_s,
                max_retries=settings.planner_max_retries,
            )
            stack.callback(model.close)
        yield RunPlanner(playbooks_dir=settings.playbooks_dir, model=model)


def plan_run_task(payload: dict[str, Any], settings: Settings) -> str:
    """`co.plan_run`: plan the Run unless it is planned or being planned."""
    task = tasks.PlanRun.model_validate(payload)
    with (
        bound_context(run_id=task.run_id),
        ledger_for(settings) as ledger,
        run_planner(settings) as planner,
    ):
        return plan_run(task, ledger=ledger, planner=planner)


def order_settled_task(payload: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """`co.order_settled`: dispatch, cancel, ready the next promotion, settle the Run."""
    task = tasks.OrderSettled.model_validate(payload)
    with bound_context(run_id=task.run_id, order_id=task.order_id), ledger_for(settings) as ledger:
        done = settle_order(task, ledger=ledger)
    return {
        "issued": done.issued,
        "cancelled": done.cancelled,
        "integration_ready": done.integration_ready,
        "run_event": done.run_event,
    }


def register_tasks(celery: Celery, settings: Settings) -> None:
    """Register the co tasks on `celery` by their contract names."""
    options: dict[str, Any] = {
        "autoretry_for": RETRY_ON,
        "retry_backoff": True,
        "max_retries": RETRY_LIMIT,
    }

    def plan(payload: dict[str, Any]) -> str:
        return plan_run_task(payload, settings)

    def settled(payload: dict[str, Any]) -> dict[str, Any]:
        return order_settled_task(payload, settings)

    celery.task(name=tasks.PLAN_RUN, **options)(plan)
    celery.task(name=tasks.ORDER_SETTLED, **options)(settled)
