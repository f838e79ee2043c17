"""Alerts to widgets' owners: a widget's switch, and when each kind was last sent.

Revision ID: d_services2_owner_alerts
Revises: d_services2_email_confirmed
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "d_services2_owner_alerts"
down_revision = "d_services2_email_confirmed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("owner_alerts", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "owner_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("widget_id", "kind", name="uq_owner_alert_widget_kind"),
    )


def downgrade():
    op.drop_table("owner_alerts")
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_column("owner_alerts")
