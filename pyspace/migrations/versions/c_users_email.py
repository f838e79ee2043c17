"""Accounts may have an e-mail address (optional, unique when given, stored lower-case).

Revision ID: c_users_email
Revises: c_fairq_run_bytes
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "c_users_email"
down_revision = "c_teacher_classes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.create_unique_constraint("uq_users_email", ["email"])


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_email", type_="unique")
        batch_op.drop_column("email")
