"""server code in named modules: each widget's server_code becomes its first module

Revision ID: c_appimport_modules
Revises: c_guard_run_secret_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "c_appimport_modules"
down_revision = "c_users_email"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "server_modules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("widget_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["widget_id"], ["widgets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("widget_id", "name", name="uq_server_module_name"),
    )
    with op.batch_alter_table("server_modules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_server_modules_widget_id"), ["widget_id"], unique=False
        )
    op.execute(
        "INSERT INTO server_modules (widget_id, name, code, position)"
        " SELECT id, 'server_code', COALESCE(server_code, ''), 0 FROM widgets"
    )
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.drop_column("server_code")


def downgrade():
    with op.batch_alter_table("widgets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("server_code", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE widgets SET server_code = COALESCE((SELECT code FROM server_modules"
        " WHERE server_modules.widget_id = widgets.id ORDER BY position LIMIT 1), '')"
    )
    with op.batch_alter_table("server_modules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_modules_widget_id"))
    op.drop_table("server_modules")
