"""Reading GitHub deliveries: `issue_comment`, `issues`, `pull_request_review_comment`."""

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


def read_github(
    event: str, delivery_id: str, payload: Any, *, mention: str, label: str | None
) -> Reading:
    """What a signed GitHub delivery asks for."""
    body = obj(payload, "the body")
    if event == "ping":
        return Ignored("ping")
    if event not in {"issue_comment", "issues", "pull_request_review_comment"}:
        return Ignored(f"event {event!r} starts nothing")
    repository = text(obj(body.get("repository"), "repository").get("full_name"), "full_name")
    action = body.get("action")
    sender = obj(body.get("sender", {}), "sender")
    if sender.get("type") == "Bot":
        return Ignored("sent by a bot")
    if event == "issues":
        return _issue(body, delivery_id, repository, action, mention=mention, label=label)
    comment = obj(body.get("comment"), "comment")
    if action != "created":
        return Ignored(f"comment {action!r}")
    command = command_after(optional_text(comment.get("body")) or "", mention)
    if command is None:
        return Ignored("no mention")
    if event == "issue_comment":
        number = text(obj(body.get("issue"), "issue").get("number"), "issue.number")
        kind = "issue_comment"
    else:
        number = text(obj(body.get("pull_request"), "pull_request").get("number"), "number")
        kind = "review_comment"
    reference = {
        "repository": repository,
        "issue": number,
        "comment_id": text(comment.get("id"), "comment.id"),
        "comment_kind": kind,
    }
    return Trigger(SourceKind.GITHUB, delivery_id, repository, command, reference, _login(comment))


def _issue(
    body: dict[str, Any],
    delivery_id: str,
    repository: str,
    action: Any,
    *,
    mention: str,
    label: str | None,
) -> Reading:
    issue = obj(body.get("issue"), "issue")
    title = optional_text(issue.get("title")) or ""
    description = optional_text(issue.get("body")) or ""
    if action == "opened":
        command = command_after(f"{title}\n{description}", mention)
    elif action == "labeled" and label:
        added = obj(body.get("label", {}), "label").get("name")
        command = f"{title}\n\n{description}".strip() if added == label else None
    else:
        return Ignored(f"issue {action!r}")
    if not command:
        return Ignored("no mention or label")
    reference = {"repository": repository, "issue": text(issue.get("number"), "issue.number")}
    return Trigger(SourceKind.GITHUB, delivery_id, repository, command, reference, _login(issue))


def _login(item: dict[str, Any]) -> str | None:
    user = item.get("user")
    return optional_text(user.get("login")) if isinstance(user, dict) else None
