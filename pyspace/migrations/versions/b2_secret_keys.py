"""Encryption keys: a kind column on secrets ("secret" or "key")

Revision ID: b2_secret_keys
Revises: 5ac66295b458
Create Date: 2026-11-28 00:50:00

Every existing row is a secret; a key is a row of kind "key" whose ciphertext is its key
material (encrypted by the site's secrets key like any value).
"""

import sqlalchemy as sa
from alembic import op

revision = "b2_secret_keys"
down_revision = "5ac66295b458"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("secrets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="secret")
        )


def downgrade():
    with op.batch_alter_table("secrets", schema=None) as batch_op:
        batch_op.drop_column("kind")
