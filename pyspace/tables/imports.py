"""One CSV import at a time per widget, and its progress.

`claim` records the import in `table_imports` (the widget is its primary key, so a second
import into any of the widget's tables is refused while one runs); the import's batches move
`rows_done` on in their own transactions (`progress`, called by rows.add_rows before each
batch's commit); `release` ends it. The Data panel's status partial reads `running_import`.
"""

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..database import rows_changed
from ..extensions import db
from ..models import DataTable, TableImport, utcnow

# An import whose batches stopped moving for this long died with its process: its claim may be
# taken over. A batch takes milliseconds; the margin covers a machine under heavy load.
STALE_AFTER = timedelta(minutes=2)


def claim(table: DataTable, rows_total: int) -> str | None:
    """Start an import of `rows_total` rows into `table` (commit); or why it can't start."""
    widget_id, table_id = table.widget_id, table.id
    try:
        db.session.add(TableImport(widget_id=widget_id, table_id=table_id, rows_total=rows_total))
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
    # A stale claim is taken over only if it is still the one read (two takers: one wins).
    running = db.session.get(TableImport, widget_id, populate_existing=True)
    if running is not None and utcnow() - running.updated_at > STALE_AFTER:
        taken = rows_changed(
            update(TableImport)
            .where(TableImport.widget_id == widget_id, TableImport.updated_at == running.updated_at)
            .values(table_id=table_id, rows_total=rows_total, rows_done=0, updated_at=utcnow())
        )
        db.session.commit()
        if taken:
            return None
        running = db.session.get(TableImport, widget_id, populate_existing=True)
    if running is None:
        return "An import has just finished: press Import again."
    return (
        f"An import into this widget's tables is running ({running.rows_done:,} of "
        f"{running.rows_total:,} rows). Wait for it to finish, then import again."
    )


def progress(widget_id: str, rows_done: int) -> None:
    """Record how many rows the import has added (part of the caller's transaction)."""
    db.session.execute(
        update(TableImport)
        .where(TableImport.widget_id == widget_id)
        .values(rows_done=rows_done, updated_at=utcnow())
    )


def release(widget_id: str) -> None:
    """End the widget's import, however it ended (commit)."""
    db.session.rollback()
    db.session.execute(delete(TableImport).where(TableImport.widget_id == widget_id))
    db.session.commit()


def running_import(table: DataTable) -> TableImport | None:
    """The import running into `table`, if any."""
    return db.session.scalar(
        select(TableImport).where(
            TableImport.widget_id == table.widget_id, TableImport.table_id == table.id
        )
    )
