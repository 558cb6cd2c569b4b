"""docs/service-contract.md names exactly the routes, events and tasks the code has."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from ironclaw.contracts import events as ev
from ironclaw.contracts import tasks
from ironclaw.contracts.subscriptions import SUBSCRIPTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "service-contract.md"
SERVICES = [
    "gateway",
    "ledger",
    "co",
    "vault",
    "worker",
    "observer",
    "integration",
    "duty",
    "sentinel",
    "learning",
]
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")
EVENT_ROW = re.compile(r"^\| `([A-Z][A-Za-z]+)` \| (\w+) \| ([^|]*) \| ([^|]*) \|$", re.M)
TASK_ROW = re.compile(r"^\| `([a-z]+\.[a-z_]+)` \| (\w+) \|", re.M)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


def service_routes(service: str) -> set[tuple[str, str]]:
    app = importlib.import_module(f"ironclaw.{service}.app").create_app()
    paths = app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_of_every_service_is_documented(service: str, doc: str) -> None:
    documented = set(ROUTE.findall(doc))
    missing = service_routes(service) - documented
    assert not missing, f"{service} routes missing from {DOC.name}: {sorted(missing)}"


def test_every_documented_route_exists(doc: str) -> None:
    existing = set().union(*(service_routes(service) for service in SERVICES))
    unknown = set(ROUTE.findall(doc)) - existing
    assert not unknown, f"{DOC.name} names routes no service has: {sorted(unknown)}"


def test_the_event_table_matches_the_vocabulary(doc: str) -> None:
    rows = {name: (fields, triggers) for name, _stream, fields, triggers in EVENT_ROW.findall(doc)}
    assert set(rows) == set(ev.event_types())
    for name, (fields, triggers) in rows.items():
        model_fields = ", ".join(ev.event_class(name).model_fields)
        assert fields.strip() == model_fields, f"{name}: fields drifted"
        subscribed = [f"`{s.task}`" for s in SUBSCRIPTIONS.get(name, ())]
        assert triggers.strip() == (", ".join(subscribed) or "—"), f"{name}: triggers drifted"


def test_the_task_table_matches_the_task_names(doc: str) -> None:
    rows = dict(TASK_ROW.findall(doc))
    assert set(rows) == set(tasks.TASK_NAMES)
    for name, queue in rows.items():
        assert queue == tasks.queue_for(name)
        payload = tasks.PAYLOAD_FOR_TASK[name]
        assert f"`{payload.__name__} {{{', '.join(payload.model_fields)}}}`" in doc, name
