"""Writing rows: add, update, delete — values checked against their columns, quotas kept.

Used by the channel services (widget code) and by the Data panel (the owner), so both obey
the same types and the same per-widget quotas (`TABLES_MAX_ROWS`, `TABLES_MAX_BYTES`), and the
owner's storage budget (`quotas.storage_error`).
Each function commits, or rolls back and raises.

Bulk work (adding many rows, deleting many) is written in batches of `BULK_WRITE_BATCH_ROWS`,
each its own short transaction (`database.commit_batch`): SQLite has one writer, and a 40,000-row
import in one transaction made every other account's writes wait out the busy timeout. Every
value is checked, and the quota counted, before the first batch is written; a failure part-way
(the database gone, the quota filled meanwhile by another writer) leaves the batches already
committed in place and says how many rows went in.
"""

from collections.abc import Callable
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, delete, func, insert, select, update

from .. import quotas
from ..database import batches, begin_batch, commit_batch, rows_changed
from ..extensions import db
from ..models import (
    LINK_TYPES,
    DataCell,
    DataColumn,
    DataLink,
    DataMedia,
    DataRow,
    DataTable,
    Widget,
    utcnow,
)
from .columns import (
    CELL_FIELD,
    MEDIA_CEILING,
    MediaValue,
    RowRef,
    TableValueError,
    check_value,
    inferred_type,
    value_size,
)
from .queries import no_such_column
from .schema import LINK_BYTES, TableChangeError, add_column, table_named, unlink

# The tables themselves, for Core multi-row inserts (see add_rows).
ROWS = cast(Table, DataRow.__table__)
CELLS = cast(Table, DataCell.__table__)


class RowChangeError(ValueError):
    """A change that can't be made (unknown column, wrong type, quota); says why.

    `error` names the Anvil exception widget code gets for it."""

    def __init__(self, message: str, error: str = "TableError") -> None:
        super().__init__(message)
        self.error = error


class QuotaError(RowChangeError):
    """The widget's tables are full (Anvil's QuotaExceededError)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "QuotaExceededError")


def columns_by_name(table: DataTable) -> dict[str, DataColumn]:
    return {column.name: column for column in table.columns}


def _cells(
    table: DataTable, columns: dict[str, DataColumn], values: dict[str, Any]
) -> dict[DataColumn, dict | None]:
    """Each named column's new cell (None: no value), checked; unknown columns refused."""
    cells: dict[DataColumn, dict | None] = {}
    for name, value in values.items():
        column = columns.get(name)
        if column is None:
            raise RowChangeError(no_such_column(table, name), "NoSuchColumnError")
        try:
            stored = check_value(table.name, column.name, column.type, value)
        except TableValueError as error:
            raise RowChangeError(str(error)) from None
        if column.type in LINK_TYPES:
            cells[column] = None if stored is None else _links(table, column, stored)
            continue
        if isinstance(stored, MediaValue):
            cells[column] = _media_cell(table, column, stored)
            continue
        cells[column] = (
            None
            if stored is None
            else {
                "column_id": column.id,
                CELL_FIELD[column.type]: stored,
                "size_bytes": value_size(stored),
            }
        )
    return cells


def media_max_bytes() -> int:
    """The largest media value (TABLES_MEDIA_MAX_BYTES, never above what the channel carries)."""
    return min(int(current_app.config["TABLES_MEDIA_MAX_BYTES"]), MEDIA_CEILING)


def _media_cell(table: DataTable, column: DataColumn, media: MediaValue) -> dict:
    """A media value's cell (what it is, counted with its bytes) and its bytes ("media")."""
    most = media_max_bytes()
    if len(media.data) > most:
        raise RowChangeError(
            f"Column {column.name!r} of table {table.name!r}: a media value can be at most "
            f"{most:,} bytes; this one is {len(media.data):,}."
        )
    return {
        "column_id": column.id,
        CELL_FIELD["media"]: media.meta(),
        "size_bytes": value_size(media),
        "media": media.data,
    }


def _cell_and_media(row_id: int, cell: dict) -> tuple[dict, dict | None]:
    """A planned cell as (its DataCell row, its DataMedia row or None)."""
    row = {key: v for key, v in cell.items() if key not in ("links", "media")} | {"row_id": row_id}
    if "media" not in cell:
        return row, None
    return row, {"row_id": row_id, "column_id": cell["column_id"], "data": cell["media"]}


def _links(table: DataTable, column: DataColumn, value: RowRef | list[RowRef]) -> dict:
    """A link value as {"links": [target ids], "size_bytes"}: each must be a row of the
    column's table (refs naming another table, or a deleted row, are refused)."""
    refs = [value] if isinstance(value, RowRef) else value
    target = column.link_table
    if target is None:
        raise RowChangeError(
            f"Column {column.name!r} of table {table.name!r} links to a table that was deleted."
        )
    for ref in refs:
        if ref.table is not None and ref.table != target.name:
            raise RowChangeError(
                f"Column {column.name!r} of table {table.name!r} holds rows of table "
                f"{target.name!r}, not of {ref.table!r}."
            )
    wanted = {ref.id for ref in refs}
    found = set(
        db.session.scalars(
            select(DataRow.id).where(DataRow.table_id == target.id, DataRow.id.in_(wanted))
        )
    )
    if found != wanted:
        raise RowChangeError(
            f"Column {column.name!r} of table {table.name!r}: a row given has been deleted "
            f"(or is not a row of {target.name!r}).",
            "RowDeleted",
        )
    return {"links": [ref.id for ref in refs], "size_bytes": LINK_BYTES * len(refs)}


def _write(row_id: int, cells: dict[DataColumn, dict | None]) -> None:
    """Insert a row's new cells and links (its old ones for these columns are gone)."""
    planned = [
        _cell_and_media(row_id, cell)
        for column, cell in cells.items()
        if cell and column.type not in LINK_TYPES
    ]
    if planned:
        db.session.execute(insert(DataCell), [row for row, _ in planned])
    media = [blob for _, blob in planned if blob is not None]
    if media:
        db.session.execute(insert(DataMedia), media)
    links = [
        link
        for column, cell in cells.items()
        if cell and column.type in LINK_TYPES
        for link in _link_rows(row_id, column, cell)
    ]
    if links:
        db.session.execute(insert(DataLink), links)


def _link_rows(row_id: int, column: DataColumn, cell: dict) -> list[dict]:
    """The DataLink rows of one link value (`_links`' answer) of row `row_id`."""
    return [
        {"row_id": row_id, "column_id": column.id, "position": n, "target_id": target}
        for n, target in enumerate(cell["links"])
    ]


def widget_usage(widget_id: str) -> tuple[int, int]:
    """(rows, bytes) the widget's tables hold."""
    rows, size = db.session.execute(
        select(
            func.coalesce(func.sum(DataTable.row_count), 0),
            func.coalesce(func.sum(DataTable.byte_count), 0),
        ).where(DataTable.widget_id == widget_id)
    ).one()
    return int(rows), int(size)


def _check_quota(table: DataTable, more_rows: int, more_bytes: int) -> None:
    _check_widget_quota(table.widget_id, more_rows, more_bytes)


def _check_widget_quota(widget_id: str, more_rows: int, more_bytes: int) -> None:
    if more_rows <= 0 and more_bytes <= 0:
        return
    rows, size = widget_usage(widget_id)
    max_rows = current_app.config["TABLES_MAX_ROWS"]
    max_bytes = current_app.config["TABLES_MAX_BYTES"]
    if more_rows > 0 and rows + more_rows > max_rows:
        raise QuotaError(
            f"This widget's tables are full: at most {max_rows:,} rows in all. "
            "Delete some rows to add more."
        )
    if more_bytes > 0 and size + more_bytes > max_bytes:
        raise QuotaError(
            f"This widget's tables are full: at most {max_bytes:,} bytes of data in all. "
            "Delete some rows or values to add more."
        )
    owner_id = db.session.scalar(select(Widget.owner_id).where(Widget.id == widget_id))
    if owner_id is not None and (full := quotas.storage_error(owner_id, max(0, more_bytes))):
        raise QuotaError(full)


def _count(table_id: int, rows: int, size: int) -> None:
    db.session.execute(
        update(DataTable)
        .where(DataTable.id == table_id)
        .values(row_count=DataTable.row_count + rows, byte_count=DataTable.byte_count + size)
    )


def add_missing_columns(table: DataTable, rows: list[dict[str, Any]]) -> None:
    """Create the columns `rows` name that `table` lacks, each typed by its first value that
    is not None. A column whose values are all None is not created (it would have no type):
    those values are dropped from `rows`, as a row has no value there anyway. A link column
    links to the table of its first row."""
    columns = columns_by_name(table)
    for values in rows:
        for name, value in list(values.items()):
            if name in columns:
                continue
            if value is None:
                if not any(other.get(name) is not None for other in rows):
                    del values[name]
                continue
            type_ = inferred_type(value)
            link_table = None
            if type_ in LINK_TYPES:
                first = value if isinstance(value, RowRef) else value[0]
                link_table = table_named(table.widget_id, first.table or "")
            try:
                columns[name] = add_column(table, name, type_, link_table)
            except TableChangeError as error:
                raise RowChangeError(str(error)) from None


def batch_rows() -> int:
    """Rows one transaction of bulk work handles (the BULK_WRITE_BATCH_ROWS setting)."""
    return max(1, int(current_app.config["BULK_WRITE_BATCH_ROWS"]))


def add_rows(
    table: DataTable,
    rows: list[dict[str, Any]],
    on_batch: Callable[[int], None] | None = None,
) -> list[int]:
    """Add `rows` (column name → value) to `table`; their ids, in order.

    Every value is checked and the quota counted before anything is written (a bad value or a
    full quota: nothing is added); then rows go in batches, one short transaction each, with
    one multi-row INSERT for the rows and one per column for their cells.
    `on_batch(rows_so_far)` is called in each batch's transaction, before its commit (an
    import records its progress so)."""
    columns = columns_by_name(table)
    planned = [_cells(table, columns, values) for values in rows]
    _check_quota(table, len(planned), _planned_size(planned))
    # Plain values: the ORM objects expire at each batch's commit (reloading them is a query).
    table_id, widget_id = table.id, table.widget_id
    ids: list[int] = []
    size_of_batch = batch_rows()
    for batch in batches(planned, size_of_batch):
        last = len(ids) + len(batch) == len(planned)
        started = begin_batch(last=last)
        try:
            # Checked again batch by batch: another writer may have filled the quota meanwhile.
            size = _planned_size(batch)
            _check_widget_quota(widget_id, len(batch), size)
            # Core inserts: one multi-row INSERT … RETURNING for the rows, one executemany per
            # column for their cells (a column's cells all have the same keys). New rows are
            # alike until their cells go in, so any id may go to any row: sorted, the ids keep
            # the planned order (oldest first).
            new_ids = sorted(
                db.session.scalars(
                    insert(ROWS).returning(ROWS.c.id),
                    [{"table_id": table_id, "created_at": utcnow()}] * len(batch),
                )
            )
            by_column: dict[int, list[dict]] = {}
            links: list[dict] = []
            media: list[dict] = []
            for row_id, cells in zip(new_ids, batch, strict=True):
                for column, cell in cells.items():
                    if not cell:
                        continue
                    if column.type in LINK_TYPES:
                        links += _link_rows(row_id, column, cell)
                        continue
                    row, blob = _cell_and_media(row_id, cell)
                    by_column.setdefault(column.id, []).append(row)
                    if blob is not None:
                        media.append(blob)
            for new in by_column.values():
                db.session.execute(insert(CELLS), new)
            if media:
                db.session.execute(insert(DataMedia), media)
            if links:
                db.session.execute(insert(DataLink), links)
            _count(table_id, len(batch), size)
            if on_batch is not None:
                on_batch(len(ids) + len(batch))
            commit_batch(started, more=not last)
        except Exception as error:
            db.session.rollback()
            if not ids:
                raise
            raise RowChangeError(
                f"Stopped after adding {len(ids):,} of {len(planned):,} rows: {error}"
            ) from error
        ids += new_ids
    return ids


def _planned_size(planned) -> int:
    return sum(cell["size_bytes"] for cells in planned for cell in cells.values() if cell)


def add_row(table: DataTable, values: dict[str, Any]) -> int:
    """Add one row; its id."""
    return add_rows(table, [values])[0]


def row_of(table: DataTable, row_id: Any) -> int | None:
    """`row_id` if it is a row of `table` (ids from widget code may be anything), else None."""
    try:
        wanted = int(row_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(select(DataRow.id).filter_by(id=wanted, table_id=table.id))


def update_row(table: DataTable, row_id: int, values: dict[str, Any]) -> None:
    """Set some of a row's values (None clears one)."""
    cells = _cells(table, columns_by_name(table), values)
    if not cells:
        return
    column_ids = [column.id for column in cells]
    try:
        old_size = (
            db.session.scalar(
                select(func.coalesce(func.sum(DataCell.size_bytes), 0)).where(
                    DataCell.row_id == row_id, DataCell.column_id.in_(column_ids)
                )
            )
            or 0
        )
        old_size += LINK_BYTES * (
            db.session.scalar(
                select(func.count()).where(
                    DataLink.row_id == row_id, DataLink.column_id.in_(column_ids)
                )
            )
            or 0
        )
        new_size = sum(cell["size_bytes"] for cell in cells.values() if cell)
        _check_quota(table, 0, new_size - old_size)
        db.session.execute(
            delete(DataCell).where(DataCell.row_id == row_id, DataCell.column_id.in_(column_ids))
        )
        db.session.execute(
            delete(DataLink).where(DataLink.row_id == row_id, DataLink.column_id.in_(column_ids))
        )
        db.session.execute(
            delete(DataMedia).where(DataMedia.row_id == row_id, DataMedia.column_id.in_(column_ids))
        )
        _write(row_id, cells)
        _count(table.id, 0, new_size - old_size)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def media_bytes(table: DataTable, row_id: int, column: DataColumn) -> bytes | None:
    """The bytes of row `row_id`'s media value in `column` (None: no value)."""
    return db.session.scalar(
        select(DataMedia.data).where(
            DataMedia.row_id == row_id,
            DataMedia.column_id == column.id,
            DataMedia.column_id.in_(select(DataColumn.id).where(DataColumn.table_id == table.id)),
        )
    )


def delete_rows(table: DataTable, row_ids: list[int] | None = None) -> int:
    """Delete rows `row_ids` of `table` (None: all of them); how many went.

    In batches, one short transaction each (cells, rows and the table's counts together), so
    emptying a big table never holds the database for long."""
    in_table = DataRow.table_id == table.id
    table_id = table.id
    size_of_batch = batch_rows()
    wanted = None if row_ids is None else list(row_ids)
    gone = 0
    synced = True
    while True:
        try:
            if wanted is None:
                batch = list(
                    db.session.scalars(
                        select(DataRow.id).where(in_table).order_by(DataRow.id).limit(size_of_batch)
                    )
                )
                last = len(batch) < size_of_batch
            else:
                batch, wanted = wanted[:size_of_batch], wanted[size_of_batch:]
                last = not wanted
            if not batch and synced:
                return gone
            started = begin_batch(last=last)
            chosen = (in_table, DataRow.id.in_(batch))
            size = db.session.scalar(
                select(func.coalesce(func.sum(DataCell.size_bytes), 0)).where(
                    DataCell.row_id.in_(select(DataRow.id).where(*chosen))
                )
            )
            size = (size or 0) + LINK_BYTES * (
                db.session.scalar(
                    select(func.count()).where(
                        DataLink.row_id.in_(select(DataRow.id).where(*chosen))
                    )
                )
                or 0
            )
            db.session.execute(
                delete(DataCell).where(DataCell.row_id.in_(select(DataRow.id).where(*chosen)))
            )
            unlink(select(DataRow.id).where(*chosen))
            removed = rows_changed(delete(DataRow).where(*chosen))
            # Written even when nothing went: a fully synced commit after unsynced batches.
            _count(table_id, -removed, -size)
            commit_batch(started, more=not last)
        except Exception:
            db.session.rollback()
            raise
        gone += removed
        synced = last
        if last:
            return gone
