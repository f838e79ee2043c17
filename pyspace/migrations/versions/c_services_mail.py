"""mail messages (the outbox and the log the daily mail limits count) and widget sessions

Revision ID: c_services_mail
Revises: b4_tables
Create Date: 2026-12-02 00:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c_services_mail"
down_revision = "c_guard_run_secret_fields"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.String(length=32), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=400), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mail_messages_account_created", ["account_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_messages_created_at"), ["created_at"])
        batch_op.create_index(batch_op.f("ix_mail_messages_widget_id"), ["widget_id"])
    op.create_table(
        "widget_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("widget_id", "session_id", name="uq_widget_session"),
    )
    with op.batch_alter_table("widget_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_widget_sessions_updated_at"), ["updated_at"])


def downgrade():
    with op.batch_alter_table("widget_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_widget_sessions_updated_at"))
    op.drop_table("widget_sessions")
    with op.batch_alter_table("mail_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_messages_widget_id"))
        batch_op.drop_index(batch_op.f("ix_mail_messages_created_at"))
        batch_op.drop_index("ix_mail_messages_account_created")
    op.drop_table("mail_messages")
