"""Connectors: small HTTP clients posting acknowledgements and replies back to each provider.

Every call has a timeout; transport errors, `429` and `5xx` are retried with exponential
backoff; anything else, or the last failure, is a `ConnectorError` the caller records.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from ironclaw.contracts.models import SourceKind
from ironclaw.gateway.config import Settings


class ConnectorError(Exception):
    """A provider did not take the message; `attempts` says how often it was tried."""

    def __init__(self, detail: str, attempts: int) -> None:
        super().__init__(detail)
        self.attempts = attempts


class Connector(Protocol):
    """Where a webhook Run's messages go: its thread, issue or pull request."""

    channel: str

    def acknowledge(self, reference: dict[str, str]) -> None:
        """A quick sign that the request was taken (a reaction, an "on it" message)."""

    def reply(self, reference: dict[str, str], text: str) -> dict[str, str]:
        """Post `text` where `reference` points; returns a reference to the posted message."""

    def close(self) -> None:
        """Release the HTTP client."""


class _Transient(Exception):
    """A failure worth another try."""


class HttpConnector:
    """The retrying HTTP part every connector shares."""

    channel = "http"

    def __init__(self, client: httpx.Client, *, attempts: int, backoff_s: float) -> None:
        self.client = client
        self.attempts = attempts
        self.backoff_s = backoff_s

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST `body` as JSON and return the decoded answer, retrying what may pass."""
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s, max=30),
            retry=retry_if_exception(lambda error: isinstance(error, _Transient)),
        )
        try:
            return retrying(self._post_once, path, body)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise ConnectorError(str(cause), self.attempts) from None
        except ConnectorError:
            raise

    def _post_once(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = self.client.post(path, json=body)
        except httpx.TransportError as error:
            raise _Transient(f"{self.channel}: {type(error).__name__}: {error}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"{self.channel} answered {response.status_code}")
        if response.status_code >= 400:
            raise ConnectorError(
                f"{self.channel} answered {response.status_code}: {response.text[:300]}", 1
            )
        return self.answer(response)

    def answer(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return {}

    def close(self) -> None:
        self.client.close()


class GitHubConnector(HttpConnector):
    """Issue and pull-request comments, and an `eyes` reaction as the acknowledgement."""

    channel = "github"

    def acknowledge(self, reference: dict[str, str]) -> None:
        repository = reference["repository"]
        comment = reference.get("comment_id")
        if comment and reference.get("comment_kind") == "review_comment":
            path = f"/repos/{repository}/pulls/comments/{comment}/reactions"
        elif comment:
            path = f"/repos/{repository}/issues/comments/{comment}/reactions"
        else:
            path = f"/repos/{repository}/issues/{reference['issue']}/reactions"
        self.post(path, {"content": "eyes"})

    def reply(self, reference: dict[str, str], text: str) -> dict[str, str]:
        path = f"/repos/{reference['repository']}/issues/{reference['issue']}/comments"
        answer = self.post(path, {"body": text})
        return {**reference, "reply_id": str(answer.get("id", ""))}


class SlackConnector(HttpConnector):
    """`chat.postMessage` in the thread; Slack answers `200` with `ok: false` on errors."""

    channel = "slack"

    def answer(self, response: httpx.Response) -> Any:
        answer = super().answer(response)
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            error = answer.get("error") if isinstance(answer, dict) else None
            if error == "ratelimited":
                raise _Transient("slack: ratelimited")
            raise ConnectorError(f"slack refused the message: {error or 'no ok in answer'}", 1)
        return answer

    def acknowledge(self, reference: dict[str, str]) -> None:
        if "command" in reference:
            return  # a slash command's own response is its acknowledgement
        self.reply(reference, "On it :eyes:")

    def reply(self, reference: dict[str, str], text: str) -> dict[str, str]:
        message: dict[str, Any] = {"channel": reference["channel"], "text": text}
        if reference.get("thread_ts"):
            message["thread_ts"] = reference["thread_ts"]
        answer = self.post("/chat.postMessage", message)
        return {**reference, "reply_ts": str(answer.get("ts", ""))}


class JiraConnector(HttpConnector):
    """Issue comments (REST API v2, plain-text bodies); Jira has nothing like a reaction."""

    channel = "jira"

    def acknowledge(self, reference: dict[str, str]) -> None:
        return None

    def reply(self, reference: dict[str, str], text: str) -> dict[str, str]:
        answer = self.post(f"/rest/api/2/issue/{reference['issue']}/comment", {"body": text})
        return {**reference, "reply_id": str(answer.get("id", ""))}


def connector_for(kind: SourceKind, settings: Settings) -> Connector | None:
    """The connector of a provider, or None when its token is not configured."""
    timeout = httpx.Timeout(settings.reply_timeout_s)
    attempts, backoff_s = settings.reply_attempts, settings.reply_backoff_s
    if kind is SourceKind.GITHUB and settings.github_token:
        headers = {
            "Authorization": f"Bearer {settings.github_token.get_secret_value()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        client = httpx.Client(base_url=settings.github_api_url, headers=headers, timeout=timeout)
        return GitHubConnector(client, attempts=attempts, backoff_s=backoff_s)
    if kind is SourceKind.SLACK and settings.slack_bot_token:
        headers = {"Authorization": f"Bearer {settings.slack_bot_token.get_secret_value()}"}
        client = httpx.Client(base_url=settings.slack_api_url, headers=headers, timeout=timeout)
        return SlackConnector(client, attempts=attempts, backoff_s=backoff_s)
    if (
        kind is SourceKind.JIRA
        and settings.jira_base_url
        and settings.jira_email
        and settings.jira_api_token
    ):
        auth = (settings.jira_email, settings.jira_api_token.get_secret_value())
        client = httpx.Client(base_url=settings.jira_base_url, auth=auth, timeout=timeout)
        return JiraConnector(client, attempts=attempts, backoff_s=backoff_s)
    return None


MISSING_SETTINGS = {
    SourceKind.GITHUB: "IRONCLAW_GITHUB_TOKEN",
    SourceKind.SLACK: "IRONCLAW_SLACK_BOT_TOKEN",
    SourceKind.JIRA: "IRONCLAW_JIRA_BASE_URL, IRONCLAW_JIRA_EMAIL and IRONCLAW_JIRA_API_TOKEN",
}
