"""Reading Sentry deliveries: an issue alert (`event_alert`) starts a `bugfix` Run."""

from __future__ import annotations

import re
from typing import Any

from ironclaw.contracts.models import SourceKind
from ironclaw.gateway.domain.webhooks.deliveries import (
    Ignored,
    Reading,
    Trigger,
    obj,
    optional_text,
)

PLAYBOOK = "bugfix"
_PROJECT_IN_URL = re.compile(r"/projects/[^/]+/([^/]+)/")


def read_sentry(resource: str, delivery_id: str, payload: Any) -> Reading:
    """What a signed Sentry integration delivery asks for."""
    body = obj(payload, "the body")
    if resource != "event_alert":
        return Ignored(f"resource {resource!r} starts nothing")
    if body.get("action") != "triggered":
        return Ignored("an alert not triggered")
    event = obj(obj(body.get("data"), "data").get("event"), "data.event")
    match = _PROJECT_IN_URL.search(optional_text(event.get("url")) or "")
    project = match.group(1) if match else optional_text(event.get("project"))
    if not project:
        return Ignored("an alert without a project")
    title = optional_text(event.get("title")) or "an error reported by Sentry"
    lines = [title]
    for label, key in (("Culprit", "culprit"), ("Sentry", "web_url")):
        value = optional_text(event.get(key))
        if value:
            lines.append(f"{label}: {value}")
    reference = {"project": project}
    issue = optional_text(event.get("issue_id"))
    if issue:
        reference["issue"] = issue
    return Trigger(
        SourceKind.SENTRY,
        delivery_id,
        project,
        "\n".join(lines),
        reference,
        None,
        playbook=PLAYBOOK,
    )
