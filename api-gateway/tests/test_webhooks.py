"""The webhook routes: each provider's signature, triggers, theaters, deduplication, stages."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from provider_apis import (
    ProviderLog,
    github_comment_delivery,
    github_signature,
    jira_comment_delivery,
    jira_signature,
    provider_apis,
    slack_mention_delivery,
    slack_signature,
)

from ironclaw.contracts import tasks
from ironclaw.contracts.clients.ledger import LedgerClient
from ironclaw.contracts.ids import new_id
from ironclaw.gateway.app import create_celery
from ironclaw.gateway.config import Settings

GITHUB_SECRET = "gh-secret"
SLACK_SECRET = "slack-secret"
JIRA_SECRET = "jira-secret"
SENTRY_SECRET = "sentry-client-secret"


@pytest.fixture
def fake_apis() -> Iterator[tuple[str, ProviderLog]]:
    with provider_apis() as apis:
        yield apis


@pytest.fixture
def hook_settings(theater: str, fake_apis: tuple[str, ProviderLog]) -> dict[str, object]:
    """Every provider's secret and token set, its sources mapped to `theater`, APIs local."""
    url, _ = fake_apis
    return {
        "github_webhook_secret": GITHUB_SECRET,
        "slack_signing_secret": SLACK_SECRET,
        "jira_webhook_secret": JIRA_SECRET,
        "sentry_webhook_secret": SENTRY_SECRET,
        "webhook_theaters": {
            "github:org/repo": theater,
            "slack:C1": theater,
            "jira:PROJ": theater,
            "sentry:*": theater,
        },
        "github_api_url": f"{url}/github",
        "github_token": "ghp-test",
        "slack_api_url": f"{url}/slack",
        "slack_bot_token": "xoxb-test",
        "jira_base_url": f"{url}/jira",
        "jira_email": "bot@example.com",
        "jira_api_token": "jira-token",
        "reply_backoff_s": 0,
        "reply_attempts": 3,
        "public_url": "https://ironclaw.example.com",
    }


@pytest.fixture
def hooks(gateway_for: Callable[..., TestClient], hook_settings: dict[str, object]) -> TestClient:
    return gateway_for(**hook_settings)


def post_github(
    client: TestClient,
    body: dict[str, Any] | bytes,
    *,
    event: str = "issue_comment",
    delivery: str = "d-1",
    secret: str = GITHUB_SECRET,
    signature: str | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature or github_signature(secret, raw),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/github", content=raw, headers=headers)


def post_slack(
    client: TestClient,
    raw: bytes,
    *,
    content_type: str = "application/json",
    timestamp: int | None = None,
    retry: int | None = None,
) -> Any:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": slack_signature(SLACK_SECRET, stamp, raw),
        "Content-Type": content_type,
    }
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return client.post("/webhooks/slack", content=raw, headers=headers)


def post_jira(client: TestClient, body: dict[str, Any], *, delivery: str = "j-1") -> Any:
    raw = json.dumps(body).encode()
    headers = {
        "X-Hub-Signature": jira_signature(JIRA_SECRET, raw),
        "X-Atlassian-Webhook-Identifier": delivery,
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/jira", content=raw, headers=headers)


def runs_received(ledger: LedgerClient) -> list[str]:
    found: list[str] = []
    after = 0
    while True:
        page = ledger.feed(after=after, limit=1000)
        if not page.events:
            return found
        found += [e.stream_id for e in page.events if e.type == "RunReceived"]
        after = page.last_position


def stages(ledger: LedgerClient, run_id: str) -> list[str]:
    events = ledger.read_stream(run_id).events
    return [str(e.data["stage"]) for e in events if e.type == "WebhookStage"]


def test_a_signed_github_comment_starts_one_run_with_its_source_and_stages(
    hooks: TestClient, ledger_client: LedgerClient, fake_apis: tuple[str, ProviderLog], theater: str
) -> None:
    body = github_comment_delivery("org/repo", 12, "@ironclaw fix the flaky test please")

    answer = post_github(hooks, body)

    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run_id"]
    run = ledger_client.get_run(run_id)
    assert run.message == "fix the flaky test please"
    assert run.theater == theater
    assert run.source.kind.value == "github"
    assert run.source.reference["repository"] == "org/repo"
    assert run.source.reference["issue"] == "12"
    assert run.source.author == "octocat"
    assert stages(ledger_client, run_id) == ["received", "verified", "parsed", "matched", "queued"]
    _, log = fake_apis
    reaction = log.wait_for("github", "/issues/comments/77/reactions")
    assert reaction[0].body == {"content": "eyes"}
    assert reaction[0].authorization == "Bearer ghp-test"


def test_a_replayed_github_delivery_creates_nothing_more(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    body = github_comment_delivery("org/repo", 12, "@ironclaw do it")
    first = post_github(hooks, body, delivery="same")

    again = post_github(hooks, body, delivery="same")

    assert again.status_code == 200
    assert again.json() == {"ok": True, "duplicate": True, "run_id": first.json()["run_id"]}
    assert runs_received(ledger_client) == [first.json()["run_id"]]


@pytest.mark.parametrize(
    "signature", [None, "sha256=" + "0" * 64, "sha1=abc", "", b"sha256=\xe9\xe9"]
)
def test_a_bad_or_missing_github_signature_is_401_and_creates_nothing(
    hooks: TestClient, ledger_client: LedgerClient, signature: str | bytes | None
) -> None:
    raw = json.dumps(github_comment_delivery("org/repo", 1, "@ironclaw go")).encode()
    headers: dict[str, str | bytes] = {
        "X-GitHub-Event": "issue_comment",
        "X-GitHub-Delivery": "d-bad",
    }
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature

    answer = hooks.post("/webhooks/github", content=raw, headers=headers)

    assert answer.status_code == 401
    assert runs_received(ledger_client) == []


def test_a_provider_without_a_secret_refuses_its_webhooks(
    gateway_for: Callable[..., TestClient], ledger_client: LedgerClient
) -> None:
    open_gateway = gateway_for()
    body = github_comment_delivery("org/repo", 1, "@ironclaw go")

    answers = [
        post_github(open_gateway, body, secret=""),
        post_slack(open_gateway, b"{}"),
        open_gateway.post("/webhooks/jira?token=x", json={"webhookEvent": "comment_created"}),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert runs_received(ledger_client) == []


def test_ping_unknown_events_and_comments_without_a_mention_start_nothing(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    ping = post_github(hooks, {"zen": "Keep it simple.", "hook_id": 1}, event="ping")
    push = post_github(hooks, {"ref": "refs/heads/main"}, event="push", delivery="d-2")
    chatter = post_github(
        hooks, github_comment_delivery("org/repo", 3, "looks good"), delivery="d-3"
    )

    assert [a.status_code for a in (ping, push, chatter)] == [200, 200, 200]
    assert ping.json()["ignored"] == "ping"
    assert runs_received(ledger_client) == []


def test_malformed_and_oversized_bodies(
    hooks: TestClient, gateway_for: Callable[..., TestClient], ledger_client: LedgerClient
) -> None:
    not_json = post_github(hooks, b"{nope")
    wrong_shape = post_github(hooks, {"action": "created", "repository": "org/repo"})
    small = gateway_for(github_webhook_secret=GITHUB_SECRET, max_body_bytes=64)
    too_big = post_github(small, github_comment_delivery("org/repo", 1, "@ironclaw " + "x" * 200))

    assert not_json.status_code == 400
    assert wrong_shape.status_code == 400
    assert too_big.status_code == 413
    assert runs_received(ledger_client) == []


def test_an_unmapped_repository_gets_a_polite_reply_and_no_run(
    hooks: TestClient, ledger_client: LedgerClient, fake_apis: tuple[str, ProviderLog]
) -> None:
    answer = post_github(hooks, github_comment_delivery("other/repo", 5, "@ironclaw help"))

    assert answer.status_code == 200
    assert answer.json()["ignored"] == "unmapped"
    assert runs_received(ledger_client) == []
    _, log = fake_apis
    [note] = log.wait_for("github", "/repos/other/repo/issues/5/comments")
    assert "github:other/repo" in note.body["body"]


def test_a_labelled_github_issue_starts_a_run_from_its_text(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    body = {
        "action": "labeled",
        "label": {"name": "ironclaw"},
        "issue": {"number": 9, "title": "Crash on start", "body": "Stack trace attached."},
        "repository": {"full_name": "org/repo"},
        "sender": {"type": "User"},
    }

    answer = post_github(hooks, body, event="issues", delivery="d-label")

    assert answer.status_code == 202
    run = ledger_client.get_run(answer.json()["run_id"])
    assert run.message == "Crash on start\n\nStack trace attached."
    assert run.source.reference == {"repository": "org/repo", "issue": "9"}


def test_slack_url_verification_is_answered_with_its_challenge(hooks: TestClient) -> None:
    raw = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aB"}).encode()

    answer = post_slack(hooks, raw)

    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aB"}


def test_a_slack_mention_starts_a_run_and_its_retry_is_deduplicated(
    hooks: TestClient, ledger_client: LedgerClient, fake_apis: tuple[str, ProviderLog]
) -> None:
    raw = json.dumps(slack_mention_delivery("C1", "<@U0BOT> add a README", event_id="Ev1")).encode()

    first = post_slack(hooks, raw)
    retried = post_slack(hooks, raw, retry=1)

    assert first.status_code == 200, first.text
    assert retried.json()["duplicate"] is True
    run = ledger_client.get_run(first.json()["run_id"])
    assert run.message == "add a README"
    assert run.source.reference == {"channel": "C1", "thread_ts": "1700000000.000100"}
    assert runs_received(ledger_client) == [run.run_id]
    _, log = fake_apis
    [ack] = log.wait_for("slack", "chat.postMessage")
    assert ack.body["channel"] == "C1"
    assert ack.body["thread_ts"] == "1700000000.000100"


def test_a_stale_or_forged_slack_request_is_refused(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    raw = json.dumps(slack_mention_delivery("C1", "<@U0BOT> go", event_id="Ev2")).encode()

    stale = post_slack(hooks, raw, timestamp=int(time.time()) - 301)
    future = post_slack(hooks, raw, timestamp=int(time.time()) + 600)
    forged = hooks.post(
        "/webhooks/slack",
        content=raw,
        headers={"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"},
    )

    assert [a.status_code for a in (stale, future, forged)] == [401, 401, 401]
    assert runs_received(ledger_client) == []


def test_a_slack_slash_command_is_acknowledged_to_its_user(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    form = {
        "command": "/ironclaw",
        "text": "bump the version",
        "channel_id": "C1",
        "user_id": "U7",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "response_url": "https://hooks.slack.com/commands/1234/5678",
    }
    raw = urlencode(form).encode()

    answer = post_slack(hooks, raw, content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 200, answer.text
    assert answer.json()["response_type"] == "ephemeral"
    run = ledger_client.get_run(answer.json()["run_id"])
    assert run.message == "bump the version"
    assert run.source.author == "U7"


def test_a_jira_comment_mentioning_ironclaw_starts_a_run(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    body = jira_comment_delivery("PROJ", "PROJ-7", "[~bot] @ironclaw please fix the login")

    answer = post_jira(hooks, body)
    again = post_jira(hooks, body)

    assert answer.status_code == 202, answer.text
    assert again.json()["duplicate"] is True
    run = ledger_client.get_run(answer.json()["run_id"])
    assert run.message == "please fix the login"
    assert run.source.reference == {"issue": "PROJ-7", "project": "PROJ"}


def test_jira_without_a_secret_takes_the_shared_token(
    gateway_for: Callable[..., TestClient], ledger_client: LedgerClient, theater: str
) -> None:
    client = gateway_for(jira_webhook_token="tok-1", webhook_theaters={"jira:PROJ": theater})
    body = jira_comment_delivery("PROJ", "PROJ-8", "@ironclaw go")

    wrong = client.post("/webhooks/jira?token=nope", json=body)
    missing = client.post("/webhooks/jira", json=body)
    right = client.post("/webhooks/jira?token=tok-1", json=body)

    assert [wrong.status_code, missing.status_code, right.status_code] == [401, 401, 202]
    assert runs_received(ledger_client) == [right.json()["run_id"]]


def test_a_jira_issue_given_the_label_starts_a_run(
    hooks: TestClient, ledger_client: LedgerClient
) -> None:
    body = {
        "webhookEvent": "jira:issue_updated",
        "user": {"accountId": "acc-2"},
        "issue": {
            "key": "PROJ-9",
            "fields": {"project": {"key": "PROJ"}, "summary": "Slow page", "description": "Fix"},
        },
        "changelog": {"items": [{"field": "labels", "fromString": "", "toString": "ironclaw"}]},
    }
    unrelated = {**body, "changelog": {"items": [{"field": "summary", "toString": "x"}]}}

    answer = post_jira(hooks, body, delivery="j-label")
    other = post_jira(hooks, unrelated, delivery="j-other")

    assert answer.status_code == 202
    assert other.json()["ignored"] == "no mention or label"
    assert ledger_client.get_run(answer.json()["run_id"]).message == "Slow page\n\nFix"


def sentry_alert(project: str = "backend") -> dict[str, Any]:
    """An issue alert (`Sentry-Hook-Resource: event_alert`) as a Sentry integration sends it."""
    return {
        "action": "triggered",
        "data": {
            "event": {
                "title": "ZeroDivisionError: division by zero",
                "culprit": "app.billing in total",
                "project": 42,
                "issue_id": "1170820242",
                "url": f"https://sentry.io/api/0/projects/acme/{project}/events/abc/",
                "web_url": "https://sentry.io/organizations/acme/issues/1170820242/events/abc/",
            },
            "triggered_rule": "New errors",
        },
    }


def post_sentry(
    client: TestClient, body: dict[str, Any], *, resource: str = "event_alert", sign: bool = True
) -> Any:
    raw = json.dumps(body).encode()
    signature = hmac.new(SENTRY_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "Sentry-Hook-Resource": resource,
        "Sentry-Hook-Signature": signature if sign else "0" * 64,
        "Request-ID": "sentry-req-1",
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/sentry", content=raw, headers=headers)


def test_a_sentry_issue_alert_starts_a_bugfix_run_and_wants_no_reply(
    hooks: TestClient,
    ledger_client: LedgerClient,
    script: Any,
    settings_for: Callable[..., Settings],
    hook_settings: dict[str, object],
) -> None:
    forged = post_sentry(hooks, sentry_alert(), sign=False)
    installed = post_sentry(hooks, {"action": "created"}, resource="installation")
    answer = post_sentry(hooks, sentry_alert())
    again = post_sentry(hooks, sentry_alert())

    assert (forged.status_code, installed.status_code, answer.status_code) == (401, 200, 202)
    assert again.json()["duplicate"] is True
    run = ledger_client.get_run(answer.json()["run_id"])
    assert run.message.startswith("ZeroDivisionError: division by zero\nCulprit: app.billing")
    assert run.source.reference == {"project": "backend", "issue": "1170820242"}
    received = ledger_client.read_stream(run.run_id).events[0]
    assert received.data["playbook"] == "bugfix"
    script.complete(run.run_id)
    assert deliver(settings_for(broker_url="memory://", **hook_settings), run.run_id) == "skipped"


# --- replies ------------------------------------------------------------------------------------


def deliver(settings: Settings, run_id: str, event_id: str | None = None) -> Any:
    """Run `gateway.deliver_reply` in this process, as a worker would for one message."""
    task = create_celery(settings).tasks[tasks.DELIVER_REPLY]
    payload = {"event_id": event_id or new_id("evt"), "run_id": run_id}
    return task.apply(kwargs={"payload": payload}).get()


def reply_events(ledger: LedgerClient, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    events = ledger.read_stream(run_id).events
    return [(e.type, e.data) for e in events if e.type in {"ReplyDelivered", "ReplyFailed"}]


def test_a_github_runs_reply_is_a_comment_on_its_issue_once(
    hooks: TestClient,
    script: Any,
    ledger_client: LedgerClient,
    fake_apis: tuple[str, ProviderLog],
    settings_for: Callable[..., Settings],
    hook_settings: dict[str, object],
) -> None:
    body = github_comment_delivery("org/repo", 12, "@ironclaw fix it")
    run_id = post_github(hooks, body).json()["run_id"]
    script.complete(run_id, response="Fixed; @ironclaw and @IronClaw say hi")
    settings = settings_for(broker_url="memory://", **hook_settings)

    outcome = deliver(settings, run_id, "evt_" + "1" * 26)
    again = deliver(settings, run_id, "evt_" + "1" * 26)

    assert (outcome, again) == ("delivered", "already_delivered")
    _, log = fake_apis
    [comment] = log.of("github", "/repos/org/repo/issues/12/comments")
    assert f"run {run_id} completed" in comment.body["body"]
    assert f"https://ironclaw.example.com/runs/{run_id}" in comment.body["body"]
    assert "@ironclaw" not in comment.body["body"].lower()
    assert "Fixed; ironclaw and ironclaw say hi" in comment.body["body"]
    [(kind, data)] = reply_events(ledger_client, run_id)
    assert kind == "ReplyDelivered"
    assert data["channel"] == "github"
    assert data["reference"]["issue"] == "12"


def test_slack_and_jira_replies_go_to_their_thread_and_issue(
    hooks: TestClient,
    script: Any,
    fake_apis: tuple[str, ProviderLog],
    settings_for: Callable[..., Settings],
    hook_settings: dict[str, object],
) -> None:
    slack = post_slack(
        hooks,
        json.dumps(slack_mention_delivery("C1", "<@U0> go", event_id="Ev9", ts="17.5")).encode(),
    ).json()["run_id"]
    jira = post_jira(hooks, jira_comment_delivery("PROJ", "PROJ-3", "@ironclaw go")).json()[
        "run_id"
    ]
    for run_id in (slack, jira):
        script.complete(run_id, response="done")
    settings = settings_for(broker_url="memory://", **hook_settings)

    outcomes = [deliver(settings, slack), deliver(settings, jira)]

    assert outcomes == ["delivered", "delivered"]
    _, log = fake_apis
    replies = [c for c in log.of("slack", "chat.postMessage") if "done" in c.body["text"]]
    assert [(c.body["channel"], c.body["thread_ts"]) for c in replies] == [("C1", "17.5")]
    [comment] = log.of("jira", "/rest/api/2/issue/PROJ-3/comment")
    assert f"run {jira} completed" in comment.body["body"]


def test_a_reply_the_provider_keeps_refusing_is_recorded_as_failed(
    hooks: TestClient,
    script: Any,
    ledger_client: LedgerClient,
    fake_apis: tuple[str, ProviderLog],
    settings_for: Callable[..., Settings],
    hook_settings: dict[str, object],
) -> None:
    run_id = post_github(hooks, github_comment_delivery("org/repo", 4, "@ironclaw go")).json()[
        "run_id"
    ]
    script.complete(run_id)
    _, log = fake_apis
    log.fail_next = 100

    outcome = deliver(settings_for(broker_url="memory://", **hook_settings), run_id)

    assert outcome == "failed"
    assert len(log.of("github", "/issues/4/comments")) == 3
    [(kind, data)] = reply_events(ledger_client, run_id)
    assert kind == "ReplyFailed"
    assert data["attempts"] == 3
    assert "500" in data["reason"]


def test_a_transient_failure_is_retried_until_the_reply_lands(
    hooks: TestClient,
    script: Any,
    ledger_client: LedgerClient,
    fake_apis: tuple[str, ProviderLog],
    settings_for: Callable[..., Settings],
    hook_settings: dict[str, object],
) -> None:
    run_id = post_github(hooks, github_comment_delivery("org/repo", 6, "@ironclaw go")).json()[
        "run_id"
    ]
    script.complete(run_id)
    _, log = fake_apis
    log.fail_next = 2

    outcome = deliver(settings_for(broker_url="memory://", **hook_settings), run_id)

    assert outcome == "delivered"
    assert len(log.of("github", "/issues/6/comments")) == 3
    assert [kind for kind, _ in reply_events(ledger_client, run_id)] == ["ReplyDelivered"]
