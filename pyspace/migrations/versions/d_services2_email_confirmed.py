"""Accounts' e-mail addresses are confirmed by a mailed link: when it was opened.

Revision ID: d_services2_email_confirmed
Revises: c_appimport_modules
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "d_services2_email_confirmed"
down_revision = "c_appimport_modules"
branch_labels = None
depends_on = None


def upgrade():
    # Addresses kept before confirmation existed stay unconfirmed: nobody opened a link for them.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
