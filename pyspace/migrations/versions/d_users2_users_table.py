"""A Users table per widget: data_tables.is_users, data_rows.account_id, and a widget's own
log-in kept in its visitor session (widget_sessions.login_*), and whether widget code may
sign people up (widgets.users_allow_signup).

Revision ID: d_users2_users_table
Revises: d_services2_owner_alerts
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "d_users2_users_table"
down_revision = "d_services2_owner_alerts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "users_allow_signup", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("data_tables", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_users", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("data_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_data_rows_account_id_users", "users", ["account_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_unique_constraint("uq_data_row_account", ["table_id", "account_id"])
    with op.batch_alter_table("widget_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("login_set", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("login_row_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("login_actor_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("widget_sessions", schema=None) as batch_op:
        batch_op.drop_column("login_actor_id")
        batch_op.drop_column("login_row_id")
        batch_op.drop_column("login_set")
    with op.batch_alter_table("data_rows", schema=None) as batch_op:
        batch_op.drop_constraint("uq_data_row_account", type_="unique")
        batch_op.drop_constraint("fk_data_rows_account_id_users", type_="foreignkey")
        batch_op.drop_column("account_id")
    with op.batch_alter_table("data_tables", schema=None) as batch_op:
        batch_op.drop_column("is_users")
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_column("users_allow_signup")
