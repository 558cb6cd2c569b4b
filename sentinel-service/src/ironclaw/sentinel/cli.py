"""`ironclaw-sentinel`: run the sentinel patrol."""

from __future__ import annotations

import typer

from ironclaw.contracts.kit.cli import patrol_with_watch, service_cli
from ironclaw.sentinel.app import create_app, create_sentinel
from ironclaw.sentinel.config import Settings


def create_cli() -> typer.Typer:
    """The sentinel service's command line."""
    cli = service_cli("IronClaw sentinel: audits the duty officer's patrol, backlog and failover.")

    @cli.command()
    def patrol() -> None:
        """Patrol until SIGTERM, answering /health on IRONCLAW_HTTP_PORT (8015).

        Every IRONCLAW_PATROL_INTERVAL_S, while it holds the `sentinel` lease (where the
        broker is: a Redis key held IRONCLAW_LEASE_TTL_S (90) past each round, else a file
        lock under IRONCLAW_HOME), it reads the duty officer's latest `PatrolCompleted` on
        `patrol-duty` and appends its own on `patrol-sentinel`; other sentinels stand by
        (`sentinel.patrol.standby`). It alerts (`sentinel.alert` log line, `SentinelAlerted`
        event, optional webhook) when a condition starts, again every IRONCLAW_ALERT_REMINDER_S
        (900) while it lasts, and once when it clears:

        - duty_heartbeat_stale: no duty cycle for IRONCLAW_DUTY_STALE_AFTER_S (default 2 x
          IRONCLAW_DUTY_PATROL_INTERVAL_S (default: IRONCLAW_PATROL_INTERVAL_S, 30) +
          IRONCLAW_DUTY_SLACK_S (10)). The sentinel then
          revokes the silent officer's duty lease (`DutyFailover`), so a standby takes over at
          its next round, unless IRONCLAW_DUTY_FAILOVER=false.
        - no_standby_duty_officer: no duty officer took over and patrolled within one duty
          interval + the slack.
        - duty_backlog_growing: the overdue backlog (unclaimed_overdue + lease_expired +
          recovery_required) grew IRONCLAW_BACKLOG_GROWTH_CYCLES (3) duty cycles in a row.
        - ledger_unreachable: the ledger did not answer for the stale period.

        IRONCLAW_ALERT_WEBHOOK_URL (or _FILE) gets each alert as a JSON POST (kind, status,
        detail, reminder, holder, at, text), with IRONCLAW_ALERT_WEBHOOK_TIMEOUT_S (5) and
        three tries; a failing webhook is logged, never fatal. Without IRONCLAW_BROKER_URL
        there is no duty lease to watch: it only logs `sentinel.patrol.idle`.
        """
        patrol_with_watch(Settings(), create_app, create_sentinel, name="sentinel")

    return cli


def main() -> None:
    """Console entry point."""
    create_cli()()
