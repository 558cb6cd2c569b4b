"""The integration service's Celery task: a payload in, a domain call, done."""

from __future__ import annotations

from typing import Any

from celery import Celery

from ironclaw.contracts import tasks
from ironclaw.contracts.tasks import IntegrateOrder
from ironclaw.integration.config import Settings
from ironclaw.integration.wiring import integrator_from


def register_tasks(celery: Celery, settings: Settings) -> None:
    """Register `integration.integrate_order` on `celery`, working with `settings`."""

    def integrate_order(payload: dict[str, Any]) -> str:
        """Promote the order's attempt to mainline (or defer, or skip); says which it did."""
        request = IntegrateOrder.model_validate(payload)
        with integrator_from(settings) as integrator:
            return integrator.integrate_order(request).value

    # Not shared: a shared task joins every Celery app made later in the process, with these
    # settings, and would shadow the task those apps register themselves.
    celery.task(name=tasks.INTEGRATE_ORDER, shared=False)(integrate_order)
