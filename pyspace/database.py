"""Database helpers: engine settings that make SQLite safe for many writers, and counting the
rows a statement changed (the tasks area claims runs and schedules that way)."""

import sqlite3
from typing import cast

from sqlalchemy import CursorResult, Executable, event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000


def configure_engine(engine: Engine) -> None:
    """Apply the SQLite settings to every connection `engine` opens (the app's engines only:
    other engines in the same process, a test's or a tool's, are left as they are)."""
    event.listen(engine, "connect", _configure_sqlite)


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """WAL lets readers and one writer work at once; the busy timeout makes a
    second writer wait instead of failing with "database is locked"."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL syncs the WAL on every commit: an acknowledged change survives a kill -9
    # and a power cut, at a cost that a site of this size never notices.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the current session; how many rows it changed (a claim that
    changed none lost the race)."""
    from .extensions import db

    return cast(CursorResult, db.session.execute(statement)).rowcount
