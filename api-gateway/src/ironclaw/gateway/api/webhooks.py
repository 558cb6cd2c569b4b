"""`POST /webhooks/github`, `/slack`, `/jira`, `/sentry`: signed deliveries in.

Each is verified against the raw body before anything is read; a delivery that asks for work
starts one Run (however often it is delivered) and is answered at once, the acknowledgement
to the provider going out after the answer.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ironclaw.contracts.kit.logging import get_logger
from ironclaw.contracts.models import SourceKind
from ironclaw.gateway.adapters.notices import acknowledge, tell
from ironclaw.gateway.api.deps import GatewayDep, request_id
from ironclaw.gateway.domain.webhooks.accept import Accepted, Duplicate, accept_trigger
from ironclaw.gateway.domain.webhooks.deliveries import (
    Challenge,
    Ignored,
    MalformedDelivery,
    Reading,
    Trigger,
)
from ironclaw.gateway.domain.webhooks.github import read_github
from ironclaw.gateway.domain.webhooks.intake import StageLog
from ironclaw.gateway.domain.webhooks.jira import read_jira
from ironclaw.gateway.domain.webhooks.sentry import read_sentry
from ironclaw.gateway.domain.webhooks.signatures import (
    SignatureRefused,
    check_github,
    check_jira,
    check_sentry,
    check_slack,
)
from ironclaw.gateway.domain.webhooks.slack import read_slack_command, read_slack_event
from ironclaw.gateway.errors import OPENAPI_PROBLEMS

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=OPENAPI_PROBLEMS)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _verified(provider: str, check: Any, log: StageLog) -> None:
    try:
        check()
    except SignatureRefused as error:
        get_logger().warning("gateway.webhook.refused", provider=provider, reason=str(error))
        raise HTTPException(401, f"{provider} delivery refused: {error}") from None
    log.mark("verified")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise HTTPException(400, "the body is not JSON") from None


def _read(read: Any, *args: Any, **kwargs: Any) -> Reading:
    try:
        reading: Reading = read(*args, **kwargs)
    except (MalformedDelivery, RecursionError) as error:
        raise HTTPException(400, f"malformed delivery: {error}") from None
    return reading


async def _start(
    request: Request,
    gateway: GatewayDep,
    reading: Reading,
    log: StageLog,
    background: BackgroundTasks,
) -> JSONResponse:
    """Answer what the delivery asks for: nothing, or its Run (started once)."""
    if isinstance(reading, Challenge):
        return JSONResponse({"challenge": reading.challenge})
    if isinstance(reading, Ignored):
        return JSONResponse({"ok": True, "ignored": reading.reason})
    trigger: Trigger = reading
    log.mark("parsed", f"{len(trigger.message)} characters from {trigger.author or 'someone'}")
    settings = gateway.settings
    acceptance = await run_in_threadpool(
        accept_trigger,
        gateway.ledger,
        gateway.vault,
        settings.webhook_theaters,
        trigger,
        log,
        request_id=request_id(request),
    )
    if isinstance(acceptance, Duplicate):
        return JSONResponse({"ok": True, "duplicate": True, "run_id": acceptance.run_id})
    if not isinstance(acceptance, Accepted):
        background.add_task(tell, settings, trigger, acceptance.note)
        return JSONResponse({"ok": True, "ignored": "unmapped", "detail": acceptance.note})
    background.add_task(acknowledge, settings, trigger, acceptance.run_id)
    body: dict[str, Any] = {"ok": True, "run_id": acceptance.run_id}
    if "command" in trigger.reference:  # Slack shows a slash command's answer to its user only
        body.update(response_type="ephemeral", text=f"On it: run {acceptance.run_id}")
    return JSONResponse(body, status_code=200 if trigger.provider is SourceKind.SLACK else 202)


@router.post("/github")
async def github_webhook(
    request: Request, gateway: GatewayDep, background: BackgroundTasks
) -> JSONResponse:
    """A GitHub App or repository webhook (`X-Hub-Signature-256`)."""
    log = StageLog()
    log.mark("received")
    body = await request.body()
    headers = request.headers
    secret = _secret(gateway.settings.github_webhook_secret)
    _verified(
        "github",
        lambda: check_github(secret, body, headers.get("x-hub-signature-256")),
        log,
    )
    event = headers.get("x-github-event")
    delivery = headers.get("x-github-delivery")
    if not event or not delivery:
        raise HTTPException(400, "X-GitHub-Event and X-GitHub-Delivery are required")
    settings = gateway.settings
    reading = _read(
        read_github,
        event,
        delivery,
        _json(body),
        mention=settings.webhook_mention,
        label=settings.webhook_label,
    )
    return await _start(request, gateway, reading, log, background)


@router.post("/slack")
async def slack_webhook(
    request: Request, gateway: GatewayDep, background: BackgroundTasks
) -> JSONResponse:
    """A Slack app's Events API request or `/ironclaw` slash command (`X-Slack-Signature`)."""
    log = StageLog()
    log.mark("received")
    body = await request.body()
    headers = request.headers
    settings = gateway.settings
    _verified(
        "slack",
        lambda: check_slack(
            _secret(settings.slack_signing_secret),
            body,
            timestamp=headers.get("x-slack-request-timestamp"),
            signature=headers.get("x-slack-signature"),
            now=time.time(),
            tolerance_s=settings.slack_timestamp_tolerance_s,
        ),
        log,
    )
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise HTTPException(400, "the form is not UTF-8") from None
        if "payload" in form:
            return JSONResponse({"ok": True, "ignored": "interactive payloads start nothing"})
        reading = _read(read_slack_command, form)
    else:
        reading = _read(read_slack_event, _json(body))
    return await _start(request, gateway, reading, log, background)


@router.post("/sentry")
async def sentry_webhook(
    request: Request, gateway: GatewayDep, background: BackgroundTasks
) -> JSONResponse:
    """A Sentry integration's issue alert (`Sentry-Hook-Signature`): a `bugfix` Run."""
    log = StageLog()
    log.mark("received")
    body = await request.body()
    headers = request.headers
    secret = _secret(gateway.settings.sentry_webhook_secret)
    _verified(
        "sentry", lambda: check_sentry(secret, body, headers.get("sentry-hook-signature")), log
    )
    delivery = headers.get("request-id") or hashlib.sha256(body).hexdigest()[:32]
    resource = headers.get("sentry-hook-resource", "")
    reading = _read(read_sentry, resource, delivery, _json(body))
    return await _start(request, gateway, reading, log, background)


@router.post("/jira")
async def jira_webhook(
    request: Request, gateway: GatewayDep, background: BackgroundTasks
) -> JSONResponse:
    """A Jira webhook (`X-Hub-Signature` with a secret, else `?token=`)."""
    log = StageLog()
    log.mark("received")
    body = await request.body()
    headers = request.headers
    settings = gateway.settings
    _verified(
        "jira",
        lambda: check_jira(
            _secret(settings.jira_webhook_secret),
            _secret(settings.jira_webhook_token),
            body,
            signature=headers.get("x-hub-signature"),
            presented=request.query_params.get("token"),
        ),
        log,
    )
    delivery = (
        headers.get("x-atlassian-webhook-identifier") or hashlib.sha256(body).hexdigest()[:32]
    )
    reading = _read(
        read_jira,
        _json(body),
        delivery,
        mention=settings.webhook_mention,
        label=settings.webhook_label,
    )
    return await _start(request, gateway, reading, log, background)
