"""Data-table transactions for widget code (`with anvil.tables.Transaction():`,
`@anvil.tables.in_transaction`).

A transaction spans several channel requests of one run, so the host keeps one database
connection per open transaction, in the run's memo, with a session on it whose commits are
savepoints: each request's changes are all-or-nothing on their own (a refused row leaves the
rest of the transaction as it was), and only closing the transaction commits them all.

- SQLite: `BEGIN IMMEDIATE` takes the database's writer lock at the start, so transactions run
  one after another (serialisable) and never conflict half-way; a run waiting for the lock
  longer than the busy timeout gets TransactionConflict.
- PostgreSQL: SERIALIZABLE (REPEATABLE READ when `relaxed=True`); a serialization failure or
  deadlock rolls the transaction back and is TransactionConflict.

Either way `in_transaction` in the sandbox runs the function again, as Anvil does.

A transaction holds locks other writers wait for, so it is bounded: one open longer than
`TABLES_TRANSACTION_SECONDS` (below SQLite's busy timeout) is rolled back, by a timer if the run
is busy elsewhere, and the run's next request (or closing it) gets TransactionConflict. A run
that ends with a transaction open has it rolled back.
"""

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..extensions import db
from ..sandbox.services import RunContext

MEMO_KEY = "tables_transaction"
# PostgreSQL's serialization_failure, deadlock_detected and lock_not_available.
CONFLICT_STATES = ("40001", "40P01", "55P03")

T = TypeVar("T")


class TransactionError(Exception):
    """A request about a transaction that can't be answered; `error` names the Anvil
    exception widget code raises."""

    def __init__(self, message: str, error: str = "TableError") -> None:
        super().__init__(message)
        self.error = error


@dataclass(eq=False)
class _Open:
    connection: Connection
    session: Session
    deadline: float
    seconds: float
    restore: Callable[[], None]
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Transaction() blocks inside one another: only the outermost one commits.
    depth: int = 1
    aborting: bool = False
    # Why it ended before being closed ("conflict", "expired"), or None while it is open.
    ended: str | None = None
    timer: threading.Timer | None = None


def _is_conflict(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None)
    if state in CONFLICT_STATES:
        return True
    text = str(error.orig).lower()
    return "database is locked" in text or "database is busy" in text


def _conflict(reason: str) -> TransactionError:
    if reason == "expired":
        seconds = current_app.config["TABLES_TRANSACTION_SECONDS"]
        return TransactionError(
            f"The transaction was open longer than {seconds:g} s and was cancelled: keep "
            "transactions short (only the reads and writes that must happen together).",
            "TransactionConflict",
        )
    if reason == "failed":
        return TransactionError(
            "The transaction was cancelled because of a problem on the server; nothing it "
            "wrote was kept."
        )
    return TransactionError(
        "The transaction conflicted with another one and was cancelled; nothing it wrote "
        "was kept. (@anvil.tables.in_transaction tries again by itself.)",
        "TransactionConflict",
    )


def _begin(relaxed: bool) -> tuple[Connection, Callable[[], None]]:
    """A connection in a new transaction, and what puts it back as it was afterwards."""
    connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        raw: Any = connection.connection.dbapi_connection
        saved = raw.isolation_level
        # The sqlite3 module would start deferred transactions itself; this one starts
        # IMMEDIATE (the writer lock first), and its savepoints need that module not to
        # meddle, so it is told to leave transactions to us until the connection is back.
        raw.isolation_level = None
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            raw.isolation_level = saved
            connection.close()
            raise

        def restore() -> None:
            raw.isolation_level = saved

        return connection, restore
    level = "REPEATABLE READ" if relaxed else "SERIALIZABLE"
    connection = connection.execution_options(isolation_level=level)
    connection.begin()
    return connection, lambda: None


def _end(txn: _Open, reason: str, commit: bool = False) -> None:
    """Commit or roll back `txn` and give its connection back (the caller holds its lock)."""
    if txn.timer is not None:
        txn.timer.cancel()
    if txn.ended is not None:
        return
    txn.ended = reason
    try:
        if commit:
            txn.session.commit()
            txn.connection.commit()
    finally:
        try:
            txn.session.close()
            if txn.connection.in_transaction():
                txn.connection.rollback()
        finally:
            txn.restore()
            txn.connection.close()


def _expire(txn: _Open) -> None:
    with txn.lock:
        if txn.ended is None:
            _end(txn, "expired")


def in_widget_transaction(session: Session) -> bool:
    """Whether `session` is the session of widget code's open transaction (`within`): its
    commits are savepoints, and only closing the transaction commits them."""
    return bool(session.info.get(MEMO_KEY))


def open_transaction(run: RunContext, relaxed: bool) -> None:
    """Start a transaction for `run` (inside an open one: join it)."""
    current = run.memo.get(MEMO_KEY)
    if current is not None and current.ended is None:
        current.depth += 1
        return
    seconds = float(current_app.config["TABLES_TRANSACTION_SECONDS"])
    try:
        connection, restore = _begin(relaxed)
    except DBAPIError as error:
        if _is_conflict(error):
            raise _conflict("conflict") from None
        raise
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", info={MEMO_KEY: True}
    )
    txn = _Open(connection, session, time.monotonic() + seconds, seconds, restore)
    txn.timer = threading.Timer(seconds, _expire, args=(txn,))
    txn.timer.daemon = True
    txn.timer.start()
    run.memo[MEMO_KEY] = txn
    # A run that ends with the transaction open (an error, a time limit) gives it back now
    # rather than when the timer fires.
    weakref.finalize(run, _expire, txn)


def close_transaction(run: RunContext, abort: bool) -> None:
    """End the run's transaction: commit it, or roll it back when `abort` (or when a block
    inside it aborted). TransactionConflict if it had already been cancelled, or its commit
    conflicts."""
    txn = run.memo.get(MEMO_KEY)
    if txn is None:
        raise TransactionError("There is no transaction open to close.")
    with txn.lock:
        if txn.ended is None and txn.depth > 1:
            txn.depth -= 1
            txn.aborting = txn.aborting or abort
            return
        del run.memo[MEMO_KEY]
        if txn.ended is None and time.monotonic() > txn.deadline:
            _end(txn, "expired")
        if txn.ended is not None:
            if abort:
                return
            raise _conflict(txn.ended)
        if abort or txn.aborting:
            _end(txn, "aborted")
            return
        try:
            _end(txn, "committed", commit=True)
        except DBAPIError as error:
            if _is_conflict(error):
                raise _conflict("conflict") from None
            raise


def within(run: RunContext, action: Callable[[], T]) -> T:
    """`action()`, inside the run's transaction when it has one open: `db.session` is the
    transaction's session while it runs."""
    txn = run.memo.get(MEMO_KEY)
    if txn is None:
        return action()
    with txn.lock:
        if txn.ended is None and time.monotonic() > txn.deadline:
            _end(txn, "expired")
        if txn.ended is not None:
            raise _conflict(txn.ended)
        registry = db.session.registry
        previous = registry() if registry.has() else None
        registry.set(txn.session)
        try:
            return action()
        except DBAPIError as error:
            conflict = _is_conflict(error)
            _end(txn, "conflict" if conflict else "failed")
            if conflict:
                raise _conflict("conflict") from None
            raise
        except Exception:
            # The request's own changes go; the transaction's earlier ones stay.
            txn.session.rollback()
            raise
        finally:
            if previous is None:
                registry.clear()
            else:
                registry.set(previous)
