"""Settings of the sentinel service."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ironclaw.contracts.kit.settings import PatrolSettings


class Settings(PatrolSettings):
    """What the sentinel service reads from `IRONCLAW_*` (its patrol interval among them)."""

    service_name: str = "sentinel"
    http_port: int = Field(default=8015, ge=1, le=65535)
    duty_patrol_interval_s: float | None = Field(
        default=None,
        gt=0,
        description="the duty officer's IRONCLAW_PATROL_INTERVAL_S (default: the sentinel's "
        "own, as a fleet's patrols share one)",
    )
    duty_slack_s: float = Field(
        default=10.0, ge=0, description="how much longer than its interval a duty cycle may take"
    )
    duty_stale_after_s: float | None = Field(
        default=None,
        gt=0,
        description="a duty heartbeat older than this is stale (default: 2 duty patrol "
        "intervals + the slack)",
    )
    backlog_growth_cycles: int = Field(
        default=3, ge=1, description="alert when the overdue backlog grew this many cycles in a row"
    )
    alert_webhook_url: SecretStr | None = Field(
        default=None, description="alerts are POSTed here as JSON (also *_FILE)"
    )
    alert_webhook_timeout_s: float = Field(default=5.0, gt=0)
    alert_reminder_s: float = Field(
        default=900.0, gt=0, description="an alert still firing is sent again this often"
    )
    duty_failover: bool = Field(
        default=True, description="revoke a stale duty officer's lease so a standby takes over"
    )

    @property
    def duty_interval_s(self) -> float:
        """How often the duty officer patrols."""
        return self.duty_patrol_interval_s or self.patrol_interval_s

    @property
    def stale_after_s(self) -> float:
        """When the duty officer's heartbeat counts as stale."""
        if self.duty_stale_after_s is not None:
            return self.duty_stale_after_s
        return 2 * self.duty_interval_s + self.duty_slack_s

    @property
    def takeover_within_s(self) -> float:
        """How soon after a failover a standby should have taken over and patrolled."""
        return self.duty_interval_s + self.duty_slack_s
