"""Which alerts are firing, so each is sent once when it starts, as a rare reminder, and once
when it clears: never every cycle for the same condition."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

AlertStatus = Literal["firing", "resolved"]


@dataclass(frozen=True)
class Alert:
    """An alert to send: a condition (`kind`) that started, is still on, or cleared."""

    kind: str
    detail: str
    status: AlertStatus = "firing"
    reminder: bool = False


class AlertBook:
    """The conditions firing now and when each was last sent."""

    def __init__(self, *, remind_after_s: float) -> None:
        self._remind_after_s = remind_after_s
        self._sent_at: dict[str, datetime] = {}

    @property
    def firing(self) -> list[str]:
        return sorted(self._sent_at)

    def update(
        self, findings: Mapping[str, str], now: datetime, *, unknown: Collection[str] = ()
    ) -> list[Alert]:
        """The alerts to send for this cycle's `findings` (kind -> detail).

        A kind in `unknown` could not be judged this cycle: it neither clears nor starts.
        """
        alerts = []
        for kind, detail in findings.items():
            sent_at = self._sent_at.get(kind)
            if sent_at is None:
                alerts.append(Alert(kind, detail))
            elif (now - sent_at).total_seconds() >= self._remind_after_s:
                alerts.append(Alert(kind, detail, reminder=True))
            else:
                continue
            self._sent_at[kind] = now
        for kind in list(self._sent_at):
            if kind not in findings and kind not in unknown:
                del self._sent_at[kind]
                alerts.append(Alert(kind, "cleared", status="resolved"))
        return alerts
