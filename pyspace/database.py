"""Database helpers: engine settings that make SQLite safe for many writers, a connection pool
as large as the web server's request threads, and counting the rows a statement changed (the
tasks area claims runs and schedules that way)."""

import sqlite3
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, event, make_url
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections beyond one per request thread, for threads that are not requests (a CLI command,
# the scheduler of a queue consumer); they are closed again when returned.
SPARE_CONNECTIONS = 10


def engine_options(config: Mapping[str, Any], request_threads: int) -> dict[str, Any]:
    """SQLAlchemy engine options: SQLALCHEMY_ENGINE_OPTIONS, over a pool of one connection per
    request thread of the web server (`sandbox.fairness.request_threads`).

    A request keeps its connection until it ends, and a run's request lasts while the run waits
    for a slot and runs. With SQLAlchemy's default pool (5, plus 10 opened and closed each time)
    15 runs in flight took every connection and a page load waited up to the whole run for one
    (11 s behind 24 four-second runs, measured): the request threads kept free for pages need
    connections of their own too."""
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # One in-memory database lives in one connection (Flask-SQLAlchemy's StaticPool).
        return dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    return {
        "pool_size": request_threads,
        "max_overflow": SPARE_CONNECTIONS,
        **config["SQLALCHEMY_ENGINE_OPTIONS"],
    }


def configure_engine(engine: Engine) -> None:
    """Apply the SQLite settings to every connection `engine` opens (the app's engines only:
    other engines in the same process, a test's or a tool's, are left as they are)."""
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "checkin", _sync_fully_again)


def begin_bookkeeping() -> None:
    """Start the session's next transaction as bookkeeping: its commit does not wait for the
    disk. For what the site notes about a run (its history row, a secret's last use), which a
    Run press would otherwise wait on twice; a user's own changes keep syncing on every commit.

    SQLite: `synchronous = NORMAL` for this transaction (the WAL is not synced at its commit;
    the next fully synced commit or checkpoint syncs it with everything before it). PostgreSQL:
    `synchronous_commit = off` for this transaction. Either way the change survives the web
    process being killed; a power cut may lose the last few, never the database's consistency.
    A transaction that has already written (or has changes waiting to be) stays fully synced:
    what it holds may be something a user typed."""
    from .extensions import db

    if db.session.new or db.session.dirty or db.session.deleted:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # A transaction gets an id at its first write.
        if connection.exec_driver_sql("SELECT pg_current_xact_id_if_assigned()").scalar() is None:
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        return
    raw = connection.connection.dbapi_connection
    # SQLite refuses the change once the transaction has written.
    if isinstance(raw, sqlite3.Connection) and not raw.in_transaction:
        raw.execute("PRAGMA synchronous = NORMAL")
        # Put back when the connection returns to the pool, before any other request has it.
        connection.connection.info["bookkeeping"] = True


def _sync_fully_again(dbapi_connection, connection_record) -> None:
    if connection_record.info.pop("bookkeeping", False) and dbapi_connection is not None:
        dbapi_connection.execute("PRAGMA synchronous = FULL")


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """WAL lets readers and one writer work at once; the busy timeout makes a
    second writer wait instead of failing with "database is locked"."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL syncs the WAL on every commit: an acknowledged change survives a kill -9 and a
    # power cut. A run's own record is the exception (`begin_bookkeeping`): a Run press waited
    # 3 ms a commit for it.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the current session; how many rows it changed (a claim that
    changed none lost the race)."""
    from .extensions import db

    return cast(CursorResult, db.session.execute(statement)).rowcount
