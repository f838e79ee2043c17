"""data tables: a full-text index of text cells (FTS5 on SQLite, GIN tsvector on PostgreSQL)

Revision ID: d_tables2_fulltext
Revises: d_tables2_media
"""

from alembic import op

revision = "d_tables2_fulltext"
down_revision = "d_tables2_media"
branch_labels = None
depends_on = None

# As in pyspace/models.py (SQLITE_FULL_TEXT_DDL, POSTGRES_FULL_TEXT_DDL), written out here so
# this migration keeps doing what it did whatever the models become.
CHARS = 100_000
KEY = "(new.row_id << 32) | new.column_id"
OLD_KEY = "(old.row_id << 32) | old.column_id"
VALUES = f"SELECT {KEY}, substr(new.text_value, 1, {CHARS}), 'c' || new.column_id"
SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS data_cells_fts USING fts5(body, column_key, "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER data_cells_fts_insert AFTER INSERT ON data_cells "
    "WHEN new.text_value IS NOT NULL BEGIN "
    f"INSERT INTO data_cells_fts(rowid, body, column_key) {VALUES}; END",
    "CREATE TRIGGER data_cells_fts_delete AFTER DELETE ON data_cells "
    "WHEN old.text_value IS NOT NULL BEGIN "
    f"DELETE FROM data_cells_fts WHERE rowid = {OLD_KEY}; END",
    "CREATE TRIGGER data_cells_fts_update AFTER UPDATE OF text_value ON data_cells BEGIN "
    f"DELETE FROM data_cells_fts WHERE rowid = {OLD_KEY}; "
    f"INSERT INTO data_cells_fts(rowid, body, column_key) {VALUES} "
    "WHERE new.text_value IS NOT NULL; END",
    # The text already kept, indexed.
    "INSERT INTO data_cells_fts(rowid, body, column_key) "
    f"SELECT (row_id << 32) | column_id, substr(text_value, 1, {CHARS}), 'c' || column_id "
    "FROM data_cells WHERE text_value IS NOT NULL",
)
POSTGRES = (
    "CREATE INDEX ix_data_cells_fulltext ON data_cells USING gin "
    f"(to_tsvector('english'::regconfig, left(text_value, {CHARS})))",
)


def upgrade():
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS data_cells_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS data_cells_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_data_cells_fulltext")
