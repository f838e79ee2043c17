"""The SQLite settings apply to the app's own engine, and to no other engine in the process."""

import pytest
import sqlalchemy

from pyspace.extensions import db


def _pragma(connection, name: str):
    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_the_apps_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite settings")
    with app.app_context(), db.engine.connect() as connection:
        assert _pragma(connection, "foreign_keys") == 1
        assert _pragma(connection, "busy_timeout") == 10_000
        assert _pragma(connection, "journal_mode") == "wal"
        assert _pragma(connection, "synchronous") == 2  # FULL


def test_another_engine_in_the_same_process_keeps_sqlites_defaults(app, tmp_path):
    other = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with other.connect() as connection:
            assert _pragma(connection, "foreign_keys") == 0
            assert _pragma(connection, "journal_mode") == "delete"
    finally:
        other.dispose()
