"""table imports: one running CSV import per widget, with its progress

Revision ID: c_writes_table_imports
Revises: c_services_mail
Create Date: 2026-12-02 00:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c_writes_table_imports"
down_revision = "c_fairq_run_bytes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "table_imports",
        sa.Column("widget_id", sa.String(length=32), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["table_id"], ["data_tables.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("widget_id"),
    )


def downgrade():
    op.drop_table("table_imports")
