"""The value indexes of data_cells hold only the cells of their type (partial indexes, `WHERE
<field> IS NOT NULL`): each cell enters one index instead of four.

Revision ID: f_writes_partial_value_indexes
Revises: e_users3_settings
Create Date: 2026-12-02

"""

import sqlalchemy as sa
from alembic import op

revision = "f_writes_partial_value_indexes"
down_revision = "e_users3_settings"
branch_labels = None
depends_on = None

# Spelled out here, not imported: a migration is what the schema was at its revision.
VALUE_INDEXES = {
    "ix_data_cells_number": "number_value",
    "ix_data_cells_bool": "bool_value",
    "ix_data_cells_date": "date_value",
    "ix_data_cells_datetime": "datetime_value",
}


def upgrade():
    for name, field in VALUE_INDEXES.items():
        op.drop_index(name, table_name="data_cells")
        condition = sa.text(f"{field} IS NOT NULL")
        op.create_index(
            name,
            "data_cells",
            ["column_id", field, "row_id"],
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade():
    for name, field in VALUE_INDEXES.items():
        op.drop_index(name, table_name="data_cells")
        op.create_index(name, "data_cells", ["column_id", field, "row_id"])
