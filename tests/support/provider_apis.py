"""Local stand-ins for GitHub's, Slack's and Jira's APIs, and the signatures they put on webhooks.

`provider_apis()` serves one app speaking the three protocols a connector uses (GitHub issue
comments and reactions, Slack `chat.postMessage`, Jira issue comments) and records every call;
`fail_next` makes the next calls answer `500` so retries and recorded failures can be tested.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from openai_server import serve


@dataclass
class Call:
    """One request a connector made."""

    provider: str
    path: str
    body: dict[str, Any]
    authorization: str | None


@dataclass
class ProviderLog:
    """What the fake APIs were sent; `fail_next` answers that many calls with `500`."""

    calls: list[Call] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, provider: str, path_part: str = "") -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.provider == provider and path_part in c.path]

    def wait_for(
        self, provider: str, path_part: str, count: int = 1, timeout_s: float = 60
    ) -> list[Call]:
        """The matching calls once there are `count` of them (polls with a deadline)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.of(provider, path_part)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} {provider} call(s) to *{path_part}*: {self.calls}")


def _app(log: ProviderLog) -> FastAPI:
    app = FastAPI()
    ids = itertools.count(1000)

    async def record(provider: str, request: Request) -> JSONResponse | None:
        body = await request.json()
        with log.lock:
            log.calls.append(
                Call(provider, request.url.path, body, request.headers.get("authorization"))
            )
            if log.fail_next > 0:
                log.fail_next -= 1
                return JSONResponse({"message": "unavailable"}, status_code=500)
        return None

    @app.post("/github/repos/{owner}/{repo}/issues/{number}/comments")
    async def github_comment(request: Request) -> JSONResponse:
        failed = await record("github", request)
        return failed or JSONResponse({"id": next(ids)}, status_code=201)

    @app.post("/github/repos/{owner}/{repo}/{rest:path}/reactions")
    async def github_reaction(request: Request) -> JSONResponse:
        failed = await record("github", request)
        return failed or JSONResponse({"id": next(ids), "content": "eyes"}, status_code=201)

    @app.post("/slack/chat.postMessage")
    async def slack_post(request: Request) -> JSONResponse:
        failed = await record("slack", request)
        if failed:
            return failed
        if not (request.headers.get("authorization") or "").startswith("Bearer xoxb-"):
            return JSONResponse({"ok": False, "error": "not_authed"})
        return JSONResponse({"ok": True, "ts": f"{time.time():.6f}"})

    @app.post("/jira/rest/api/2/issue/{key}/comment")
    async def jira_comment(request: Request) -> JSONResponse:
        failed = await record("jira", request)
        return failed or JSONResponse({"id": str(next(ids))}, status_code=201)

    return app


@contextmanager
def provider_apis() -> Iterator[tuple[str, ProviderLog]]:
    """The fake APIs; yields (base URL, log): GitHub at `/github`, Slack `/slack`, Jira `/jira`."""
    log = ProviderLog()
    with serve(_app(log)) as url:
        yield url, log


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def jira_signature(secret: str, body: bytes) -> str:
    return github_signature(secret, body)


def github_comment_delivery(
    repository: str, issue: int, text: str, *, comment_id: int = 77, login: str = "octocat"
) -> dict[str, Any]:
    """An `issue_comment` `created` body as GitHub sends it (the fields IronClaw reads)."""
    return {
        "action": "created",
        "issue": {"number": issue, "title": "A bug", "user": {"login": "someone"}},
        "comment": {"id": comment_id, "body": text, "user": {"login": login, "type": "User"}},
        "repository": {"full_name": repository},
        "sender": {"login": login, "type": "User"},
    }


def slack_mention_delivery(
    channel: str, text: str, *, event_id: str, ts: str = "1700000000.000100"
) -> dict[str, Any]:
    """An Events API `app_mention` callback as Slack sends it."""
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": event_id,
        "event": {"type": "app_mention", "user": "U42", "text": text, "ts": ts, "channel": channel},
    }


def jira_comment_delivery(project: str, issue: str, text: str) -> dict[str, Any]:
    """A `comment_created` webhook body as Jira sends it."""
    return {
        "webhookEvent": "comment_created",
        "comment": {"id": "10001", "body": text, "author": {"accountId": "acc-1"}},
        "issue": {"key": issue, "fields": {"project": {"key": project}, "summary": "Broken"}},
    }
