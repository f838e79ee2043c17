"""Runs record how many bytes they store (the per-account storage budget counts them).

Revision ID: c_fairq_run_bytes
Revises: c_guard_run_secret_fields
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "c_fairq_run_bytes"
down_revision = "c_services_mail"
branch_labels = None
depends_on = None

TEXT_FIELDS = ("stdout", "stderr", "error_message", "error_traceback", "state_json", "return_json")


def upgrade():
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stored_bytes", sa.Integer(), server_default="0", nullable=False)
        )
    # The runs already kept count too (characters: close enough, and portable).
    size = " + ".join(f"COALESCE(LENGTH({field}), 0)" for field in TEXT_FIELDS)
    op.execute(f"UPDATE runs SET stored_bytes = {size}")


def downgrade():
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("stored_bytes")
