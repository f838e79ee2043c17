"""data tables: media columns (the bytes of each media value in data_media)

Revision ID: d_tables2_media
Revises: d_users2_users_table
"""

import sqlalchemy as sa
from alembic import op

revision = "d_tables2_media"
down_revision = "d_users2_users_table"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_media",
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("column_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["column_id"], ["data_columns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["row_id"], ["data_rows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("row_id", "column_id"),
    )
    with op.batch_alter_table("data_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_media_column_id"), ["column_id"], unique=False)


def downgrade():
    with op.batch_alter_table("data_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_media_column_id"))
    op.drop_table("data_media")
