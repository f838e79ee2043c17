"""Rate-limit counters in a SQLite file of their own, shared by every process on this machine.

Flask-Limiter keeps its counters where RATELIMIT_STORAGE_URI says: `memory://` is one process's
own (with N gunicorn workers every limit would be N times as lenient), `redis://…` needs a
server. This storage needs only the stdlib and is the default, `default_storage_uri`: a file
apart from the site's database, so counting a request never waits behind the site's writer.

`create_app` imports this module before `limiter.init_app`, so `limits` knows the scheme. Only
the fixed-window strategy (Flask-Limiter's default, py.space's) is implemented: `limits` refuses
moving-window and sliding-window-counter for this storage, naming it.
"""

import os
import random
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence

from limits.storage import Storage

SCHEME = "pyspace+sqlite"
FILE_NAME = "ratelimits.sqlite"
# Every client address × limit leaves a row: one `incr` in this many deletes the expired ones,
# so the file holds only recent clients and a hit rarely pays for scanning the table.
PURGE_ONE_IN = 1000
BUSY_TIMEOUT_SECONDS = 5.0

CREATE_TABLE = """CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"""
# One statement, so two processes counting the same key at once can't both read the old count:
# SQLite runs it under the database's write lock. An expired window starts again from `amount`.
INCREMENT = """INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END,
    expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END
RETURNING count"""
CURRENT_WINDOW = "SELECT count, expires_at FROM counters WHERE key = ? AND expires_at > ?"


def default_storage_uri(instance_path: str) -> str:
    """The counters' file in `instance_path`: what an empty RATELIMIT_STORAGE_URI means."""
    return f"{SCHEME}:///{os.path.join(os.path.abspath(instance_path), FILE_NAME)}"


def _use_wal(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so): readers never wait for the writer. Switching
    fails at once, not after the busy timeout, while workers starting together read the new
    file: so it is retried until the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite table: `pyspace+sqlite:////abs/path/file.sqlite`."""

    # limits' metaclass registers the schemes listed here; its base class declares the list as
    # an instance attribute, so mypy refuses the ClassVar that RUF012 asks for.
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        prefix = f"{SCHEME}:///"
        if not uri or not uri.startswith(prefix) or uri == prefix:
            raise ValueError(f"expected {prefix}<path to a file>, got {uri!r}")
        self.path = uri[len(prefix) :]
        # A connection per thread (gthread workers count requests in many threads at once), and
        # per process: a connection opened before gunicorn forks must not be used in the child.
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (sqlite3.Error, OSError)

    def _connection(self) -> sqlite3.Connection:
        if getattr(self._local, "pid", None) != os.getpid():
            self._local.connection = self._connect()
            self._local.pid = os.getpid()
        return self._local.connection

    def _connect(self) -> sqlite3.Connection:
        # Created here, before SQLite opens it, so it is 0600 whatever the umask; SQLite gives
        # its -wal and -shm files the same mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        # isolation_level=None: every statement commits on its own, no transaction left open.
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        _use_wal(connection)
        # A power cut may forget the last few hits: not worth an fsync per request.
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(CREATE_TABLE)
        return connection

    def _execute(self, sql: str, parameters: Sequence | Mapping = ()) -> sqlite3.Cursor:
        return self._connection().execute(sql, parameters)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` more hits on `key` and return the window's count; a window that
        ended starts again, lasting `expiry` seconds from now."""
        if random.randrange(PURGE_ONE_IN) == 0:
            self.purge_expired()
        parameters = {"key": key, "amount": amount, "now": time.time(), "expiry": expiry}
        # All rows are fetched: the statement (and its commit) ends only when it is exhausted.
        [(count,)] = self._execute(INCREMENT, parameters).fetchall()
        return count

    def get(self, key: str) -> int:
        """The hits counted in `key`'s current window (0 when it has none)."""
        row = self._execute(CURRENT_WINDOW, (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        """When `key`'s current window ends (now, as in MemoryStorage, when it has none)."""
        now = time.time()
        row = self._execute(CURRENT_WINDOW, (key, now)).fetchone()
        return row[1] if row else now

    def check(self) -> bool:
        """Whether the file answers (Flask-Limiter's health check)."""
        try:
            self._execute("SELECT 1 FROM counters LIMIT 1").fetchall()
        except self.base_exceptions:
            return False
        return True

    def reset(self) -> int:
        """Forget every counter; returns how many there were."""
        return self._execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        """Forget `key`'s counter."""
        self._execute("DELETE FROM counters WHERE key = ?", (key,))

    def purge_expired(self) -> int:
        """Delete the windows that ended; returns how many."""
        return self._execute("DELETE FROM counters WHERE expires_at <= ?", (time.time(),)).rowcount
