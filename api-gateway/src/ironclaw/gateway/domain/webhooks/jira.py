"""Reading Jira deliveries: comments and issues mentioning `@ironclaw` or carrying its label."""

from __future__ import annotations

from typing import Any

from ironclaw.contracts.models import SourceKind
from ironclaw.gateway.domain.webhooks.deliveries import (
    Ignored,
    Reading,
    Trigger,
    command_after,
    obj,
    optional_text,
    text,
)

COMMENT_EVENTS = frozenset({"comment_created", "comment_updated"})
ISSUE_EVENTS = frozenset({"jira:issue_created", "jira:issue_updated"})


def read_jira(payload: Any, delivery_id: str, *, mention: str, label: str | None) -> Reading:
    """What a verified Jira delivery asks for."""
    body = obj(payload, "the body")
    event = optional_text(body.get("webhookEvent"))
    if event not in COMMENT_EVENTS | ISSUE_EVENTS:
        return Ignored(f"event {event!r} starts nothing")
    issue = obj(body.get("issue"), "issue")
    key = text(issue.get("key"), "issue.key")
    fields = obj(issue.get("fields", {}), "issue.fields")
    project = fields.get("project")
    place = (
        text(project.get("key"), "project.key") if isinstance(project, dict) else key.split("-")[0]
    )
    reference = {"issue": key, "project": place}
    if event in COMMENT_EVENTS:
        comment = obj(body.get("comment"), "comment")
        command = command_after(plain_text(comment.get("body")), mention)
        author = _name(comment.get("author"))
    else:
        summary = optional_text(fields.get("summary")) or ""
        description = plain_text(fields.get("description"))
        command = command_after(f"{summary}\n{description}", mention)
        if command is None and label and _labelled(body, fields, label, event):
            command = f"{summary}\n\n{description}".strip() or None
        author = _name(body.get("user"))
    if not command:
        return Ignored("no mention or label")
    return Trigger(SourceKind.JIRA, delivery_id, place, command, reference, author)


def _labelled(body: dict[str, Any], fields: dict[str, Any], label: str, event: str) -> bool:
    """Created with the label, or updated to add it (so other edits start nothing)."""
    if event == "jira:issue_created":
        labels = fields.get("labels")
        return isinstance(labels, list) and label in labels
    changelog = body.get("changelog")
    items = changelog.get("items") if isinstance(changelog, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("field") == "labels":
            after = (optional_text(item.get("toString")) or "").split()
            before = (optional_text(item.get("fromString")) or "").split()
            if label in after and label not in before:
                return True
    return False


def plain_text(value: Any) -> str:
    """A Jira text field as plain text: a wiki string, or the text nodes of a document (ADF)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        own = value.get("text") if isinstance(value.get("text"), str) else ""
        content = value.get("content")
        parts = [plain_text(child) for child in content] if isinstance(content, list) else []
        return " ".join(part for part in [own, *parts] if part)
    return ""


def _name(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    return optional_text(user.get("accountId")) or optional_text(user.get("name"))
