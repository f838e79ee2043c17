"""data tables: link columns (link_single, link_multiple), auto-created columns switch,
client access per table

Revision ID: c_tables_links
Revises: b4_tables
Create Date: 2026-12-02 00:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c_tables_links"
down_revision = "c_writes_table_imports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tables_auto_columns", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("data_tables", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "client_access", sa.String(length=10), server_default="none", nullable=False
            )
        )
    with op.batch_alter_table("data_columns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_table_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_data_columns_link_table_id_data_tables",
            "data_tables",
            ["link_table_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "data_links",
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("column_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["column_id"], ["data_columns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["row_id"], ["data_rows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("row_id", "column_id", "position"),
    )
    with op.batch_alter_table("data_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_data_links_column_target", ["column_id", "target_id", "row_id"], unique=False
        )
        batch_op.create_index("ix_data_links_target", ["target_id"], unique=False)


def downgrade():
    with op.batch_alter_table("data_links", schema=None) as batch_op:
        batch_op.drop_index("ix_data_links_target")
        batch_op.drop_index("ix_data_links_column_target")
    op.drop_table("data_links")
    with op.batch_alter_table("data_columns", schema=None) as batch_op:
        batch_op.drop_constraint("fk_data_columns_link_table_id_data_tables", type_="foreignkey")
        batch_op.drop_column("link_table_id")
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_column("tables_auto_columns")
    with op.batch_alter_table("data_tables", schema=None) as batch_op:
        batch_op.drop_column("client_access")
