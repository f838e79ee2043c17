"""Runs remember whether their outcome held a secret value, and which fields were withheld.

Revision ID: c_guard_run_secret_fields
Revises: b4_tables
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "c_guard_run_secret_fields"
down_revision = "b4_tables"
branch_labels = None
depends_on = None


def upgrade():
    # Runs recorded before this are taken as holding none: their stored fields are already
    # masked or withheld as they were shown.
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_secret", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("withheld_fields", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("withheld_fields")
        batch_op.drop_column("held_secret")
