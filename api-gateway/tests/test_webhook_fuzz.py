"""Random bodies and headers at every webhook route: never a 5xx, never a Run unsigned."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provider_apis import github_signature, jira_signature, slack_signature

from ironclaw.contracts.clients.ledger import LedgerClient

SECRET = "fuzz-secret"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["created", "opened", "labeled", "triggered"]) | json_values,
        "data": st.fixed_dictionaries({}, optional={"event": json_values}) | json_values,
        "type": st.sampled_from(["event_callback", "url_verification"]) | json_values,
        "webhookEvent": st.sampled_from(["comment_created", "jira:issue_updated"]) | json_values,
        "event_id": json_values,
        "challenge": json_values,
        "event": st.fixed_dictionaries(
            {}, optional={"type": st.just("app_mention"), "text": json_values, "ts": json_values}
        )
        | json_values,
        "comment": st.fixed_dictionaries({}, optional={"body": json_values, "id": json_values})
        | json_values,
        "issue": json_values,
        "repository": st.fixed_dictionaries({"full_name": json_values}) | json_values,
        "sender": json_values,
        "changelog": json_values,
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | shaped.map(lambda v: json.dumps(v).encode())
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80
) | st.sampled_from(["issue_comment", "issues", "ping", "application/x-www-form-urlencoded"])
headers = st.dictionaries(
    st.sampled_from(
        [
            "X-GitHub-Event",
            "X-GitHub-Delivery",
            "X-Hub-Signature-256",
            "X-Hub-Signature",
            "X-Slack-Signature",
            "X-Slack-Request-Timestamp",
            "X-Slack-Retry-Num",
            "X-Atlassian-Webhook-Identifier",
            "Sentry-Hook-Resource",
            "Sentry-Hook-Signature",
            "Request-ID",
            "Content-Type",
        ]
    ),
    header_values,
    max_size=6,
)


def signed(route: str, body: bytes, given_headers: dict[str, str]) -> dict[str, str]:
    """`given_headers` with a valid signature for `body` on `route` added."""
    if route == "github":
        return {
            "X-GitHub-Event": "issue_comment",
            "X-GitHub-Delivery": "fuzz",
            **given_headers,
            "X-Hub-Signature-256": github_signature(SECRET, body),
        }
    if route == "slack":
        stamp = str(int(time.time()))
        return {
            **given_headers,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature(SECRET, stamp, body),
        }
    if route == "sentry":
        signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        return {
            "Sentry-Hook-Resource": "event_alert",
            **given_headers,
            "Sentry-Hook-Signature": signature,
        }
    return {**given_headers, "X-Hub-Signature": jira_signature(SECRET, body)}


def run_count(ledger: LedgerClient) -> int:
    count, after = 0, 0
    while True:
        page = ledger.feed(after=after, limit=1000)
        if not page.events:
            return count
        count += sum(1 for e in page.events if e.type == "RunReceived")
        after = page.last_position


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(["github", "slack", "jira", "sentry"]),
    body=bodies,
    given_headers=headers,
    sign=st.booleans(),
)
def test_random_deliveries_never_break_the_gateway_nor_start_unsigned_runs(
    gateway_for: Callable[..., TestClient],
    ledger_client: LedgerClient,
    theater: str,
    route: str,
    body: bytes,
    given_headers: dict[str, str],
    sign: bool,
) -> None:
    client = fuzz_client(gateway_for, theater)
    before = run_count(ledger_client)
    sent = signed(route, body, given_headers) if sign else given_headers

    answer = client.post(f"/webhooks/{route}", content=body, headers=sent)

    assert answer.status_code < 500, answer.text
    if not sign:
        assert answer.status_code == 401
        assert run_count(ledger_client) == before


_clients: dict[int, TestClient] = {}


def fuzz_client(gateway_for: Callable[..., Any], theater: str) -> TestClient:
    """One gateway per test (hypothesis calls the test body many times with the same fixtures)."""
    key = id(gateway_for)
    if key not in _clients:
        _clients.clear()
        _clients[key] = gateway_for(
            github_webhook_secret=SECRET,
            slack_signing_secret=SECRET,
            jira_webhook_secret=SECRET,
            sentry_webhook_secret=SECRET,
            webhook_theaters={
                "github:org/repo": theater,
                "slack:*": theater,
                "jira:P": theater,
                "sentry:*": theater,
            },
        )
    return _clients[key]
