"""Which Python a GUI widget's client code runs on in the browser (widgets.client_python):
Pyodide, as every widget did before, or MicroPython.

Revision ID: g_gui_client_python
Revises: f_writes_partial_value_indexes
Create Date: 2026-12-03

"""

import sqlalchemy as sa
from alembic import op

revision = "g_gui_client_python"
down_revision = "f_writes_partial_value_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "client_python", sa.String(length=12), nullable=False, server_default="pyodide"
            )
        )


def downgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_column("client_python")
