"""teachers, classes with their pupils and join codes, and one-time log-in links

Revision ID: c_teacher_classes
Revises: c_services_mail
Create Date: 2026-12-02 01:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c_teacher_classes"
down_revision = "c_tables_links"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_teacher", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "classrooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["teacher_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("classrooms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classrooms_teacher_id"), ["teacher_id"])
    op.create_table(
        "classroom_members",
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["classroom_id"], ["classrooms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("classroom_id", "user_id"),
    )
    with op.batch_alter_table("classroom_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classroom_members_user_id"), ["user_id"])
    op.create_table(
        "login_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("login_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_links_user_id"), ["user_id"])
    with op.batch_alter_table("join_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classroom_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_join_codes_classroom_id"), ["classroom_id"])
        batch_op.create_foreign_key(
            "fk_join_codes_classroom_id",
            "classrooms",
            ["classroom_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    with op.batch_alter_table("join_codes", schema=None) as batch_op:
        batch_op.drop_constraint("fk_join_codes_classroom_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_join_codes_classroom_id"))
        batch_op.drop_column("classroom_id")
    op.drop_table("login_links")
    op.drop_table("classroom_members")
    op.drop_table("classrooms")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_teacher")
