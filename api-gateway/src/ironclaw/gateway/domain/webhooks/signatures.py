"""Each provider's signature check, exactly as the provider signs: constant-time compares."""

from __future__ import annotations

import hashlib
import hmac
import re


class SignatureRefused(Exception):
    """The delivery is not provably from the provider: answered `401`, nothing created."""


def _hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _require_equal(expected: str, presented: str | None, what: str) -> None:
    if not presented:
        raise SignatureRefused(f"the {what} header is missing")
    if not hmac.compare_digest(expected.encode(), presented.strip().encode("utf-8", "replace")):
        raise SignatureRefused(f"the {what} does not match")


def check_github(secret: str | None, body: bytes, signature: str | None) -> None:
    """`X-Hub-Signature-256: sha256=<HMAC-SHA256(secret, raw body)>`."""
    if not secret:
        raise SignatureRefused("IRONCLAW_GITHUB_WEBHOOK_SECRET is not set: GitHub webhooks are off")
    _require_equal(f"sha256={_hmac_sha256(secret, body)}", signature, "X-Hub-Signature-256")


def check_slack(
    secret: str | None,
    body: bytes,
    *,
    timestamp: str | None,
    signature: str | None,
    now: float,
    tolerance_s: int,
) -> None:
    """`X-Slack-Signature: v0=<HMAC-SHA256(secret, "v0:{timestamp}:{body}")>`, timestamp fresh."""
    if not secret:
        raise SignatureRefused("IRONCLAW_SLACK_SIGNING_SECRET is not set: Slack webhooks are off")
    if not timestamp or not re.fullmatch(r"[0-9]{1,12}", timestamp.strip()):
        raise SignatureRefused("the X-Slack-Request-Timestamp header is missing or not a number")
    if abs(now - int(timestamp)) > tolerance_s:
        raise SignatureRefused("the X-Slack-Request-Timestamp is too far from now (a replay?)")
    base = b"v0:" + timestamp.strip().encode() + b":" + body
    _require_equal(f"v0={_hmac_sha256(secret, base)}", signature, "X-Slack-Signature")


def check_sentry(secret: str | None, body: bytes, signature: str | None) -> None:
    """`Sentry-Hook-Signature: <HMAC-SHA256(client secret, raw body)>` (hex, no prefix)."""
    if not secret:
        raise SignatureRefused("IRONCLAW_SENTRY_WEBHOOK_SECRET is not set: Sentry webhooks are off")
    _require_equal(_hmac_sha256(secret, body), signature, "Sentry-Hook-Signature")


def check_jira(
    secret: str | None,
    token: str | None,
    body: bytes,
    *,
    signature: str | None,
    presented: str | None,
) -> None:
    """`X-Hub-Signature: sha256=<HMAC>` when a secret is set, else the shared `?token=`."""
    if secret:
        _require_equal(f"sha256={_hmac_sha256(secret, body)}", signature, "X-Hub-Signature")
    elif token:
        _require_equal(token, presented, "token")
    else:
        raise SignatureRefused(
            "neither IRONCLAW_JIRA_WEBHOOK_SECRET nor IRONCLAW_JIRA_WEBHOOK_TOKEN is set: "
            "Jira webhooks are off"
        )
