"""Webhooks end to end: a signed delivery from each provider becomes a Run that completes, and
its reply lands on the provider's (local, fake) API in the thread or issue it came from."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fleet import SERVICES, Fleet, fleet_environment
from fleet_runs import fleet_running
from model_scripts import plan_of, tool_names, tool_results
from openai_server import Reply, ScriptedModel, text_reply, tool_call
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

SECRET = "e2e-webhook-secret"


@pytest.fixture
def apis() -> Iterator[tuple[str, ProviderLog]]:
    with provider_apis() as running:
        yield running


@pytest.fixture
def webhook_fleet(
    postgres_url: str,
    redis_db_url: str,
    model_endpoint: tuple[str, ScriptedModel],
    apis: tuple[str, ProviderLog],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Fleet]:
    """The fleet with the reply worker, every provider's secret set, sources mapped to `default`."""
    home = tmp_path / "home"
    home.mkdir()
    env, ports = fleet_environment(home, postgres_url, redis_db_url, model_endpoint[0])
    url, _ = apis
    env |= {
        "IRONCLAW_GITHUB_WEBHOOK_SECRET": SECRET,
        "IRONCLAW_SLACK_SIGNING_SECRET": SECRET,
        "IRONCLAW_JIRA_WEBHOOK_SECRET": SECRET,
        "IRONCLAW_WEBHOOK_THEATERS": json.dumps(
            {"github:org/repo": "default", "slack:C1": "default", "jira:PROJ": "default"}
        ),
        "IRONCLAW_GITHUB_API_URL": f"{url}/github",
        "IRONCLAW_GITHUB_TOKEN": "ghp-e2e",
        "IRONCLAW_SLACK_API_URL": f"{url}/slack",
        "IRONCLAW_SLACK_BOT_TOKEN": "xoxb-e2e",
        "IRONCLAW_JIRA_BASE_URL": f"{url}/jira",
        "IRONCLAW_JIRA_EMAIL": "bot@example.com",
        "IRONCLAW_JIRA_API_TOKEN": "jira-e2e",
        "IRONCLAW_PUBLIC_URL": "https://ironclaw.example.com",
    }
    names = [name for name, *_ in SERVICES] + ["replies"]
    with fleet_running(Fleet(home=home, env=env, ports=ports), names, request) as running:
        yield running


def note_writer(request: dict[str, Any]) -> Reply:
    """Plans one order per message, which writes a file named after the message."""
    if "submit_plan" in tool_names(request):
        message = request["messages"][-1]["content"]
        return plan_of({"key": "note", "objective": f"Write a note about: {message}"})
    if not tool_names(request):
        return text_reply("Wrote the note")
    if not tool_results(request):
        objective = json.dumps(request["messages"][:2], sort_keys=True)
        name = hashlib.sha256(objective.encode()).hexdigest()[:12]
        return tool_call("write_file", {"path": f"notes/{name}.txt", "content": "noted\n"})
    return tool_call("finish", {"summary": "Wrote the note", "outcome": "completed"})


def send_github(fleet: Fleet, body: dict[str, Any], delivery: str, **kw: Any) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {
        "X-GitHub-Event": "issue_comment",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": kw.get("signature") or github_signature(SECRET, raw),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{fleet.gateway}/webhooks/github", content=raw, headers=headers, timeout=30)


def send_slack(fleet: Fleet, raw: bytes, *, stamp: int | None = None) -> httpx.Response:
    timestamp = str(stamp if stamp is not None else int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(SECRET, timestamp, raw),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{fleet.gateway}/webhooks/slack", content=raw, headers=headers, timeout=30)


def send_jira(fleet: Fleet, body: dict[str, Any], delivery: str) -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = {
        "X-Hub-Signature": jira_signature(SECRET, raw),
        "X-Atlassian-Webhook-Identifier": delivery,
        "Content-Type": "application/json",
    }
    return httpx.post(f"{fleet.gateway}/webhooks/jira", content=raw, headers=headers, timeout=30)


def event_types(fleet: Fleet, run_id: str) -> list[str]:
    return [event["type"] for event in fleet.get(f"/runs/{run_id}/events").json()]


def run_count(fleet: Fleet) -> int:
    count, after = 0, 0
    while True:
        page = fleet.ledger.feed(after=after, limit=1000)
        if not page.events:
            return count
        count += sum(1 for e in page.events if e.type == "RunReceived")
        after = page.last_position


def test_each_provider_gets_its_reply_where_the_request_was_made(
    webhook_fleet: Fleet, model: ScriptedModel, apis: tuple[str, ProviderLog]
) -> None:
    fleet, (_, log) = webhook_fleet, apis
    model.default = note_writer
    github = send_github(
        fleet, github_comment_delivery("org/repo", 41, "@ironclaw note the outage"), "gh-1"
    )
    slack = send_slack(
        fleet,
        json.dumps(
            slack_mention_delivery("C1", "<@U0BOT> note the deploy", event_id="Ev1", ts="171.5")
        ).encode(),
    )
    jira = send_jira(fleet, jira_comment_delivery("PROJ", "PROJ-5", "@ironclaw note it"), "j-1")
    assert [github.status_code, slack.status_code, jira.status_code] == [202, 200, 202]

    runs = {
        name: fleet.wait_for_run(answer.json()["run_id"])
        for name, answer in (("github", github), ("slack", slack), ("jira", jira))
    }

    assert {name: run.status for name, run in runs.items()} == dict.fromkeys(runs, "completed")
    [comment] = log.wait_for("github", "/repos/org/repo/issues/41/comments")
    assert f"run {runs['github'].run_id} completed" in comment.body["body"]
    replies = log.wait_for("slack", "chat.postMessage", count=2)
    final = [c for c in replies if runs["slack"].run_id in c.body["text"]]
    assert [(c.body["channel"], c.body["thread_ts"]) for c in final] == [("C1", "171.5")]
    [note] = log.wait_for("jira", "/rest/api/2/issue/PROJ-5/comment")
    assert f"run {runs['jira'].run_id} completed" in note.body["body"]
    for run in runs.values():
        types = fleet.wait_until(
            lambda run=run: (t := event_types(fleet, run.run_id)) and "ReplyDelivered" in t and t,
            60,
            "the reply recorded",
        )
        assert types[0] == "RunReceived"
        assert types.count("WebhookStage") == 5
        assert types.index("RunCompleted") < types.index("ReplyDelivered")


def test_deliveries_that_must_not_start_work_start_none(
    webhook_fleet: Fleet, model: ScriptedModel, apis: tuple[str, ProviderLog]
) -> None:
    fleet, (_, log) = webhook_fleet, apis
    model.default = note_writer
    comment = github_comment_delivery("org/repo", 7, "@ironclaw note this")
    first = send_github(fleet, comment, "gh-replayed")
    assert first.status_code == 202
    before = run_count(fleet)

    answers = {
        "bad signature": send_github(fleet, comment, "gh-bad", signature="sha256=" + "0" * 64),
        "replayed": send_github(fleet, comment, "gh-replayed"),
        "stale slack": send_slack(
            fleet,
            json.dumps(slack_mention_delivery("C1", "<@U0> x", event_id="Ev-stale")).encode(),
            stamp=int(time.time()) - 600,
        ),
        "malformed": send_jira(fleet, {"webhookEvent": "comment_created", "issue": 3}, "j-bad"),
        "unmapped": send_github(
            fleet, github_comment_delivery("else/where", 2, "@ironclaw x"), "gh-unmapped"
        ),
    }

    assert {name: answer.status_code for name, answer in answers.items()} == {
        "bad signature": 401,
        "replayed": 200,
        "stale slack": 401,
        "malformed": 400,
        "unmapped": 200,
    }
    assert answers["replayed"].json()["run_id"] == first.json()["run_id"]
    [polite] = log.wait_for("github", "/repos/else/where/issues/2/comments")
    assert "not set up" in polite.body["body"]
    assert fleet.wait_for_run(first.json()["run_id"]).status == "completed"
    assert run_count(fleet) == before
