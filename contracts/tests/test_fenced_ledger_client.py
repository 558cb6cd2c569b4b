"""The fenced ledger client on a real ledger: heartbeats carry the fence, other events pass."""

from __future__ import annotations

from ironclaw.contracts import events as ev
from ironclaw.contracts.clients.fenced import FencedLedgerClient


def heartbeat(scope: str, fence: int | None = None) -> ev.PatrolCompleted:
    return ev.PatrolCompleted(
        scope=scope, patrol="observer", holder="a:1", duration_ms=3, fence=fence
    )


def test_heartbeats_are_stamped_with_the_fence_of_their_scope(ledger_url: str) -> None:
    fences = {"alpha": 4, "beta": None}
    with FencedLedgerClient(ledger_url, fence_of=lambda h: fences[h.scope]) as ledger:
        ledger.append("patrol-observer-alpha", [heartbeat("alpha")], expected_version=None)
        ledger.append("patrol-observer-beta", [heartbeat("beta")], expected_version=None)
        ledger.append("patrol-observer-alpha", [heartbeat("alpha", 2)], expected_version=None)
        alert = ev.SentinelAlerted(scope="garrison", condition="x")
        ledger.append("patrol-sentinel", [alert], expected_version=None)

        alpha = [e.data["fence"] for e in ledger.read_stream("patrol-observer-alpha").events]
        (beta,) = ledger.read_stream("patrol-observer-beta").events
        (stored_alert,) = ledger.read_stream("patrol-sentinel").events

    assert alpha == [4, 2]  # a heartbeat that names its fence keeps it
    assert beta.data["fence"] is None
    assert stored_alert.payload() == alert
