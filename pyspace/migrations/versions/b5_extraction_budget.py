"""Extraction budget: counters of withheld results per (widget, caller); short-value flag.

Revision ID: b5_extraction
Revises: b2_secret_keys
Create Date: 2026-11-28

"""

import sqlalchemy as sa
from alembic import op

revision = "b5_extraction"
down_revision = "b2_secret_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "extraction_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.String(length=32), nullable=False),
        sa.Column("caller", sa.String(length=80), nullable=False),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("widget_id", "caller", name="uq_extraction_widget_caller"),
    )
    # Existing values are not flagged: nothing here may decrypt them. Setting a value again does.
    with op.batch_alter_table("secrets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("short_value", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("secrets", schema=None) as batch_op:
        batch_op.drop_column("short_value")
    op.drop_table("extraction_counters")
