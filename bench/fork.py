"""Fork benchmark: a widget with 1,000 secrets, vs inserting 1,000 rows with bare sqlite3."""

import os
import sqlite3

from sqlalchemy import event

from pyspace.database import SQLITE_BUSY_TIMEOUT_MS
from pyspace.extensions import db
from pyspace.forks.forking import fork_widget
from pyspace.models import User, Widget

from .measure import Report, counted_decryptions, time_interleaved
from .sample_data import make_user, make_widget

FORK_SECRETS = 1000


def _bare_sqlite_insert(path: str, rows: int):
    """One transaction inserting `rows` secret-shaped rows with the app's own SQLite settings."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
        "journal_mode = WAL",
        "synchronous = FULL",
    ):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS secrets (id INTEGER PRIMARY KEY, widget_id TEXT,"
        " name TEXT, description TEXT, required INTEGER, write_only INTEGER)"
    )
    batch = [(None, "w", f"api_key_{n:05d}", "", 0, 0) for n in range(rows)]

    def insert():
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO secrets VALUES (?, ?, ?, ?, ?, ?)", batch)
        connection.execute("COMMIT")

    return insert


def bench_fork(app, report: Report, repeat: int, workdir: str, secrets: int = FORK_SECRETS) -> None:
    """Time `fork_widget` on a widget with `secrets` secrets (taking turns with a bare sqlite3
    insert of as many rows); count its statements and decryptions."""
    baseline, name = f"bare sqlite3 insert of {secrets} rows", f"fork of {secrets} secrets"
    bare_insert = _bare_sqlite_insert(os.path.join(workdir, "bare.sqlite"), secrets)
    with app.app_context():
        original_id = make_widget(make_user("forkowner"), secrets, title="Many secrets")
        forker_id = make_user("forker")
        statements = []

        def count_statement(*args):
            statements.append(1)

        def fork():
            # As the fork view has them: the original (with its owner) and the forker loaded.
            original, forker = db.session.get(Widget, original_id), db.session.get(User, forker_id)
            _ = original.owner
            statements.clear()
            fork_widget(original, forker)
            db.session.expire_all()

        event.listen(db.engine, "before_cursor_execute", count_statement)
        try:
            with counted_decryptions() as count:
                samples = time_interleaved({baseline: bare_insert, name: fork}, repeat)
        finally:
            event.remove(db.engine, "before_cursor_execute", count_statement)
        decryptions = count.value
    report.add(baseline, samples[baseline])
    report.add(
        name, samples[name], baseline=baseline, statements=len(statements), decryptions=decryptions
    )
    report.check(name, "< 100 ms, 0 decryptions", report.median(name) < 100 and decryptions == 0)
