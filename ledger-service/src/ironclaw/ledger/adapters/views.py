"""Read models served over HTTP, built from the projection tables."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, select

from ironclaw.contracts.api import (
    AttemptView,
    IntegrationView,
    OrderSummary,
    OrderView,
    ProfileHealth,
    RunView,
    TheaterUsage,
    TheaterView,
)
from ironclaw.contracts.kit.errors import NotFound
from ironclaw.contracts.models import OrderStatus, RunStatus, TokenUsage
from ironclaw.ledger.adapters.database import read_snapshot
from ironclaw.ledger.adapters.tables import attempts, orders, runs, theaters
from ironclaw.ledger.adapters.tables import profiles as profile_rows
from ironclaw.ledger.adapters.tables import usage as usage_rows


class Views:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def run(self, run_id: str) -> RunView:
        with read_snapshot(self._engine) as connection:
            row = connection.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
            if row is None:
                raise NotFound(f"run {run_id!r} does not exist")
            return _run_view(connection, dict(row))

    def runs(
        self,
        *,
        statuses: list[RunStatus],
        limit: int,
        after: str | None,
        reply_status: str | None = None,
    ) -> list[RunView]:
        """Runs by status in id order (oldest first), those after `after`: one page.

        Served by the status index: unsettled runs are few however long the history is.
        """
        query = select(runs).order_by(runs.c.run_id).limit(limit)
        if statuses:
            query = query.where(runs.c.status.in_([s.value for s in statuses]))
        if after:
            query = query.where(runs.c.run_id > after)
        if reply_status:
            query = query.where(runs.c.reply_status == reply_status)
        with read_snapshot(self._engine) as connection:
            rows = [dict(r) for r in connection.execute(query).mappings()]
            return [_run_view(connection, row) for row in rows]

    def order(self, order_id: str) -> OrderView:
        with read_snapshot(self._engine) as connection:
            row = (
                connection.execute(select(orders).where(orders.c.order_id == order_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"order {order_id!r} does not exist")
            attempt_rows = list(
                connection.execute(
                    select(attempts)
                    .where(attempts.c.order_id == order_id)
                    .order_by(attempts.c.attempt)
                ).mappings()
            )
        return _order_view(dict(row), [dict(a) for a in attempt_rows])

    def orders(
        self,
        *,
        statuses: list[OrderStatus],
        run_id: str | None,
        theater: str | None,
        limit: int,
        after: str | None = None,
    ) -> list[OrderView]:
        """Orders by status, run or theater in id order (oldest first), those after `after`.

        Served by projection indexes: a page costs the same however much history is settled.
        """
        query = select(orders).order_by(orders.c.order_id).limit(limit)
        if after:
            query = query.where(orders.c.order_id > after)
        if statuses:
            query = query.where(orders.c.status.in_([s.value for s in statuses]))
        if run_id:
            query = query.where(orders.c.run_id == run_id)
        if theater:
            query = query.where(orders.c.theater == theater)
        with read_snapshot(self._engine) as connection:
            rows = [dict(r) for r in connection.execute(query).mappings()]
            ids = [r["order_id"] for r in rows]
            attempt_rows = connection.execute(
                select(attempts).where(attempts.c.order_id.in_(ids)).order_by(attempts.c.attempt)
            ).mappings()
            by_order: dict[str, list[dict[str, Any]]] = {}
            for a in attempt_rows:
                by_order.setdefault(a["order_id"], []).append(dict(a))
        return [_order_view(r, by_order.get(r["order_id"], [])) for r in rows]

    def theater(self, name: str) -> TheaterView:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(theaters).where(theaters.c.name == name))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"theater {name!r} does not exist")
        return TheaterView.model_validate(dict(row))

    def theaters(self) -> list[TheaterView]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(theaters).order_by(theaters.c.name)).mappings()
            return [TheaterView.model_validate(dict(r)) for r in rows]

    def profile(self, name: str) -> ProfileHealth:
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(profile_rows).where(profile_rows.c.name == name))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"profile {name!r} has no record: no order has settled on it")
        return ProfileHealth.model_validate(dict(row))

    def profiles(
        self, *, min_failures: int | None = None, disabled: bool | None = None
    ) -> list[ProfileHealth]:
        """Profiles by name, filtered on the (disabled, consecutive_failures) index."""
        query = select(profile_rows).order_by(profile_rows.c.name)
        if disabled is not None:
            query = query.where(profile_rows.c.disabled == disabled)
        if min_failures is not None:
            query = query.where(profile_rows.c.consecutive_failures >= min_failures)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings()
            return [ProfileHealth.model_validate(dict(r)) for r in rows]

    def usage(self, *, day: date, theater: str | None = None) -> list[TheaterUsage]:
        """One row per theater that settled attempts on `day`: a key lookup, not a history scan."""
        query = select(usage_rows).where(usage_rows.c.day == day).order_by(usage_rows.c.theater)
        if theater:
            query = query.where(usage_rows.c.theater == theater)
        with self._engine.connect() as connection:
            rows = connection.execute(query).mappings()
            return [
                TheaterUsage(
                    theater=r["theater"],
                    day=r["day"],
                    attempts=r["attempts"],
                    tokens=TokenUsage(input=r["tokens_input"], output=r["tokens_output"]),
                    cost_usd=r["cost_usd"],
                )
                for r in rows
            ]


_RUN_FIELDS = (
    "run_id",
    "status",
    "theater",
    "message",
    "source",
    "conversation_id",
    "planner",
    "response",
    "reason",
    "cancel_requested",
    "reply_status",
    "reply_failures",
    "created_at",
    "updated_at",
    "cost_usd",
    "version",
)


def _run_view(connection: Connection, row: dict[str, Any]) -> RunView:
    order_rows = connection.execute(
        select(orders)
        .where(orders.c.run_id == row["run_id"])
        .order_by(orders.c.created_at, orders.c.key)
    ).mappings()
    summaries = [
        OrderSummary(
            order_id=o["order_id"],
            key=o["key"],
            status=o["status"],
            attempt=o["attempt"],
            objective=o["spec"]["objective"],
        )
        for o in order_rows
    ]
    return RunView(
        **{k: row[k] for k in _RUN_FIELDS},
        orders=summaries,
        tokens=TokenUsage(input=row["tokens_input"], output=row["tokens_output"]),
    )


def _order_view(row: dict[str, Any], attempt_rows: list[dict[str, Any]]) -> OrderView:
    spec = row["spec"]
    return OrderView(
        order_id=row["order_id"],
        run_id=row["run_id"],
        theater=row["theater"],
        key=row["key"],
        status=row["status"],
        objective=spec["objective"],
        success_criteria=spec["success_criteria"],
        depends_on=spec["depends_on"],
        engine=spec["engine"],
        profile=spec["profile"],
        commands=spec["commands"],
        task_type=spec["task_type"],
        budget=spec["budget"],
        attempt=row["attempt"],
        recovery_reason=row["recovery_reason"],
        attempts=[_attempt_view(a) for a in attempt_rows],
        integration=IntegrationView.model_validate(row["integration"])
        if row["integration"]
        else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def _attempt_view(row: dict[str, Any]) -> AttemptView:
    fields = {
        k: v for k, v in row.items() if k not in {"order_id", "tokens_input", "tokens_output"}
    }
    return AttemptView(
        **fields, tokens=TokenUsage(input=row["tokens_input"], output=row["tokens_output"])
    )
