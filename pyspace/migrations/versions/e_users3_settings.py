"""Per-widget Users settings: require a confirmed e-mail address to log in
(widgets.users_require_confirmed) and whether visitors who never logged in may call server
functions (widgets.users_anonymous_calls).

Revision ID: e_users3_settings
Revises: d_tables2_fulltext
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "e_users3_settings"
down_revision = "d_tables2_fulltext"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "users_require_confirmed",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(
            sa.Column(
                "users_anonymous_calls", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )


def downgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_column("users_anonymous_calls")
        batch_op.drop_column("users_require_confirmed")
