"""A run's reply: delivered or failed, and how often it failed (the duty officer retries).

Existing runs start with no reply status; `ironclaw-ledger rebuild` fills it from history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_status", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("reply_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_runs_reply_status", ["reply_status", "run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_reply_status")
        batch_op.drop_column("reply_failures")
        batch_op.drop_column("reply_status")
