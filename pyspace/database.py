"""Database helpers: engine settings that make SQLite safe for many writers, a connection pool
as large as the web server's request threads, counting the rows a statement changed (the
tasks area claims runs and schedules that way), and sharing the one writer fairly:

- bulk work (tables' CSV import, `add_rows`, deleting a table or all its rows) commits in short
  batches (`commit_batch`), stepping aside after each so another account's write waits
  milliseconds, not the whole import;
- `is_database_busy` tells a write that could not get the database (SQLite's busy timeout,
  PostgreSQL's lock timeout) from other errors: errors.py answers it with 503 + Retry-After;
- `retry_when_busy` repeats a run's own bookkeeping (runs/history.py) rather than losing it.
"""

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Executable, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from .counters import DATABASE_BUSY

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL error codes for "could not get the lock in time" (lock_timeout, NOWAIT) and for a
# deadlock, which the server broke by failing one side: both are worth trying again.
POSTGRES_BUSY_CODES = ("55P03", "40P01")
# After a batch of bulk work the writer steps aside as long as the batch held the database
# (SQLite polls a waiting writer every few to 100 ms, so the gap must be long enough to be
# seen), within these bounds.
MIN_STEP_ASIDE_SECONDS = 0.002
MAX_STEP_ASIDE_SECONDS = 0.05
# How long one batch of bulk work should hold the database: batches are sized to it from the
# time the previous ones took (`BatchSizer`), so another writer waits about this long at most,
# on a fast machine or a loaded one. Longer batches are cheaper per row (fewer commits, each
# index page written once per batch, not once per few rows).
BATCH_HOLD_SECONDS = 0.08
# The first batch's rows (nothing measured yet), and how fast later batches may grow.
FIRST_BATCH_ROWS = 200
BATCH_GROWTH = 4
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


def is_database_busy(error: BaseException) -> bool:
    """Whether `error` is a write that could not get the database in time (SQLite "database
    is locked" after the busy timeout, PostgreSQL's lock timeout or a broken deadlock): the same
    write may succeed a moment later."""
    if not isinstance(error, OperationalError):
        return False
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return "database is locked" in str(original) or "database is busy" in str(original)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return code in POSTGRES_BUSY_CODES


def retry_when_busy(write: Callable[[], T], attempts: int = 6, first_wait: float = 0.05) -> T:
    """`write()` (which commits), tried again after a rollback while the database is busy,
    waiting twice as long each time (0.05 s, 0.1 s, … 1.6 s, on top of each try's own busy
    timeout). For records that must not be lost to a moment of contention: a run's history row.
    `write` starts from scratch each time (the rollback forgot what it added)."""
    from .extensions import db

    for attempt in range(attempts):
        try:
            return write()
        except OperationalError as error:
            db.session.rollback()
            if not is_database_busy(error) or attempt == attempts - 1:
                raise
            log.warning("database busy; trying the write again (%d of %d)", attempt + 2, attempts)
            DATABASE_BUSY.labels("bookkeeping_retry").inc()
            time.sleep(first_wait * 2**attempt)
    raise AssertionError("unreachable")  # the loop returns or raises


class BatchSizer:
    """How many rows the next batch of bulk work takes: `FIRST_BATCH_ROWS`, then as many as the
    batches so far say fit in `BATCH_HOLD_SECONDS`, never more than `most` (the
    BULK_WRITE_BATCH_ROWS setting) nor `BATCH_GROWTH` times the last batch."""

    def __init__(self, most: int) -> None:
        self.most = max(1, most)
        self.size = min(FIRST_BATCH_ROWS, self.most)

    def took(self, rows: int, seconds: float) -> None:
        """A batch of `rows` held the database `seconds`: size the next one."""
        if rows <= 0 or seconds <= 0:
            return
        fitting = int(rows * BATCH_HOLD_SECONDS / seconds)
        self.size = max(1, min(fitting, rows * BATCH_GROWTH, self.most))


def batches(items: Sequence[T], sizer: BatchSizer) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices (bulk work's transactions), each `sizer.size` long as it
    is when the slice is taken (the caller tells the sizer how long each took)."""
    start = 0
    while start < len(items):
        batch = items[start : start + sizer.size]
        start += len(batch)
        yield batch


def begin_batch(last: bool) -> float:
    """Start one batch of bulk work; its start time, for `commit_batch`.

    Batches before the last commit without waiting for the disk (`begin_bookkeeping`: each
    fsync would hold SQLite's one writer for milliseconds); the last one syncs fully, and with
    it every batch before (syncing the WAL syncs all it holds)."""
    from .extensions import db

    if not last:
        begin_bookkeeping()
    else:
        connection = db.session.connection()
        raw = connection.connection.dbapi_connection
        if isinstance(raw, sqlite3.Connection) and not raw.in_transaction:
            raw.execute("PRAGMA synchronous = FULL")
    return time.monotonic()


def commit_batch(started: float, more: bool) -> float:
    """Commit one batch of bulk work begun at `started` (`begin_batch`); how long it held the
    database. If `more` batches follow, step aside about as long as it held the database, so
    writers waiting for it get their turn.

    SQLite has one writer and its waiting writers poll: a bulk writer that began its next batch
    right after committing would win almost every time. Stepping aside halves a bulk job's
    speed at worst and keeps every other write's wait to a few batches."""
    from .extensions import db

    db.session.commit()
    held = time.monotonic() - started
    if more and db.engine.dialect.name == "sqlite":
        # (PostgreSQL locks rows, not the database: nobody waits for a bulk writer there.)
        time.sleep(min(max(held, MIN_STEP_ASIDE_SECONDS), MAX_STEP_ASIDE_SECONDS))
    return held
