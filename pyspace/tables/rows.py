"""Writing rows: add, update, delete — values checked against their columns, quotas kept.

Used by the channel services (widget code) and by the Data panel (the owner), so both obey
the same types and the same per-widget quotas (`TABLES_MAX_ROWS`, `TABLES_MAX_BYTES`), and the
owner's storage budget (`quotas.storage_error`).
Each function commits, or rolls back and raises.

Bulk work (adding many rows, deleting many) is written in batches, each its own short
transaction (`database.commit_batch`) sized to hold the database about 80 ms and at most
`BULK_WRITE_BATCH_ROWS` rows (`database.BatchSizer`): SQLite has one writer, and a 40,000-row
import in one transaction made every other account's writes wait out the busy timeout. Every
value is checked, and the quota counted, before the first batch is written; a failure part-way
(the database gone, the quota filled meanwhile by another writer) leaves the batches already
committed in place and says how many rows went in. Inside widget code's open transaction the
rows go in one piece instead (that transaction is what must be all or nothing).

Quotas are checked inside the transaction that writes, once it holds the database's writer
(SQLite) or the account's row lock (PostgreSQL), so concurrent writers of one account can't
both take the last of its room.
"""

import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from flask import current_app
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from .. import quotas
from ..database import BatchSizer, batches, begin_batch, commit_batch, rows_changed
from ..extensions import db
from ..models import (
    ACCOUNT_COLUMNS,
    LINK_TYPES,
    DataCell,
    DataColumn,
    DataLink,
    DataMedia,
    DataRow,
    DataTable,
    User,
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
from .transactions import in_widget_transaction

# The tables themselves, for Core multi-row inserts (see add_rows).
ROWS = cast(Table, DataRow.__table__)
CELLS = cast(Table, DataCell.__table__)
# Planning a bulk add gives other threads the interpreter after this many rows.
YIELD_EVERY_ROWS = 500


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


def _refuse_account_columns(table: DataTable, names) -> None:
    """A Users table's account columns belong to the site's accounts: nobody else sets them
    (a widget changing a visitor's e-mail could take their account over by password reset)."""
    if not table.is_users:
        return
    taken = sorted({name for name, _ in ACCOUNT_COLUMNS} & set(names))
    if taken:
        raise RowChangeError(
            f"{', '.join(taken)} of the Users table come from the person's py.space account "
            "and can't be changed here; add your own columns for anything else."
        )


def columns_by_name(table: DataTable) -> dict[str, DataColumn]:
    return {column.name: column for column in table.columns}


def _cells(
    table: DataTable, columns: dict[str, DataColumn], values: dict[str, Any]
) -> dict[DataColumn, dict | None]:
    """Each named column's new cell (None: no value), checked; unknown columns refused."""
    return _cell_planner(table, columns)(values)


def _cell_planner(
    table: DataTable, columns: dict[str, DataColumn]
) -> Callable[[dict[str, Any]], dict[DataColumn, dict | None]]:
    """`_cells` for many rows of `table`: each column's name, id and type are read from the ORM
    once, not once per value (a 100,000-row import checks every value)."""
    table_name = table.name
    known = {
        name: (column, column.id, column.type, CELL_FIELD.get(column.type))
        for name, column in columns.items()
    }

    def cells_of(values: dict[str, Any]) -> dict[DataColumn, dict | None]:
        cells: dict[DataColumn, dict | None] = {}
        for name, value in values.items():
            found = known.get(name)
            if found is None:
                raise RowChangeError(no_such_column(table, name), "NoSuchColumnError")
            column, column_id, type_, field = found
            try:
                stored = check_value(table_name, name, type_, value)
            except TableValueError as error:
                raise RowChangeError(str(error)) from None
            if stored is None:
                cells[column] = None
            elif field is None:
                cells[column] = _links(table, column, stored)
            elif isinstance(stored, MediaValue):
                cells[column] = _media_cell(table, column, stored)
            else:
                cells[column] = {
                    "column_id": column_id,
                    field: stored,
                    "size_bytes": value_size(stored),
                }
        return cells

    return cells_of


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


def _list_cell(row_id: int, column: DataColumn) -> dict:
    """The DataCell that says a link_multiple value is a list, even an empty one: a set
    `[]` reads back as `[]`, as in Anvil, while a value never set (no cell) reads as None.
    Its links are DataLink rows; the cell itself holds nothing and counts no bytes."""
    return {"row_id": row_id, "column_id": column.id, "size_bytes": 0}


def _write(row_id: int, cells: dict[DataColumn, dict | None]) -> None:
    """Insert a row's new cells and links (its old ones for these columns are gone)."""
    planned = [
        _cell_and_media(row_id, cell)
        for column, cell in cells.items()
        if cell and column.type not in LINK_TYPES
    ] + [
        (_list_cell(row_id, column), None)
        for column, cell in cells.items()
        if cell and column.type == "link_multiple"
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


def _check_widget_quota(
    widget_id: str, more_rows: int, more_bytes: int, owner_id: int | None = None
) -> None:
    """QuotaError if the widget's tables (TABLES_MAX_*) or its owner's storage budget can't
    take `more_rows` rows and `more_bytes` bytes more."""
    if more_rows <= 0 and more_bytes <= 0:
        return
    if owner_id is None:
        owner_id = db.session.scalar(select(Widget.owner_id).where(Widget.id == widget_id))
    if owner_id is not None and db.session.get_bind().dialect.name == "postgresql":
        # The account's writers check and write its quotas one after another (its row stays
        # locked until this transaction ends), so two can't both take the last of the room.
        # SQLite needs no lock: the caller has written already, and holds its one writer.
        db.session.execute(select(User.id).where(User.id == owner_id).with_for_update())
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


def batch_sizer() -> BatchSizer:
    """Sizes one bulk job's transactions: at most BULK_WRITE_BATCH_ROWS rows each, fewer when
    more would hold the database too long (`database.BatchSizer`)."""
    return BatchSizer(int(current_app.config["BULK_WRITE_BATCH_ROWS"]))


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
    import records its progress so).

    Inside widget code's open transaction (`transactions.within`) the rows go in one piece,
    with no commit of their own: the transaction is what must be all or nothing, and it
    already holds the database for its whole length. A Users table's rows are made by
    accounts, not added."""
    if table.is_users and rows:
        raise RowChangeError(
            "Rows of the Users table are the accounts that use this widget: one is made when "
            "someone logged in uses it."
        )
    cells_of = _cell_planner(table, columns_by_name(table))
    planned = []
    for values in rows:
        planned.append(cells_of(values))
        if len(planned) % YIELD_EVERY_ROWS == 0:
            # Checking 100,000 rows is a second or more of pure Python: the web server's other
            # threads (a log-in, a Run press) get the interpreter between slices of it.
            time.sleep(0)
    # Plain values: the ORM objects expire at each batch's commit (reloading them is a query).
    table_id, widget_id = table.id, table.widget_id
    owner_id = db.session.scalar(select(Widget.owner_id).where(Widget.id == widget_id))
    if in_widget_transaction(db.session()):
        return _add_in_one_piece(table_id, widget_id, owner_id, planned)
    sizer = batch_sizer()
    if len(planned) > sizer.size:
        # More than one transaction: refused before the first is written. (One batch is
        # checked in its own transaction below, and rolled back whole if refused.)
        _check_widget_quota(widget_id, len(planned), _planned_size(planned), owner_id)
    ids: list[int] = []
    for batch in batches(planned, sizer):
        last = len(ids) + len(batch) == len(planned)
        started = begin_batch(last=last)
        try:
            new_ids = _insert_batch(table_id, batch)
            # Checked again batch by batch, once this batch holds the writer (SQLite: nobody
            # else writes until it commits): another writer may have filled the quota meanwhile.
            size = _planned_size(batch)
            _check_widget_quota(widget_id, len(batch), size, owner_id)
            _count(table_id, len(batch), size)
            if on_batch is not None:
                on_batch(len(ids) + len(batch))
            sizer.took(len(batch), commit_batch(started, more=not last))
        except Exception as error:
            db.session.rollback()
            if not ids:
                raise
            raise RowChangeError(
                f"Stopped after adding {len(ids):,} of {len(planned):,} rows: {error}"
            ) from error
        ids += new_ids
    return ids


def _add_in_one_piece(
    table_id: int, widget_id: str, owner_id: int | None, planned: list
) -> list[int]:
    """Add the planned rows with one commit: the commit of a savepoint in widget code's
    transaction, so a failure anywhere leaves none of them."""
    size = _planned_size(planned)
    try:
        _check_widget_quota(widget_id, len(planned), size, owner_id)
        ids = _insert_batch(table_id, planned)
        _count(table_id, len(planned), size)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ids


def _insert_batch(table_id: int, batch: Sequence[dict[DataColumn, dict | None]]) -> list[int]:
    """Insert the planned rows `batch` into table `table_id` (no commit); their ids, in order.

    Core inserts: one multi-row INSERT … RETURNING for the rows, one executemany per column
    for their cells (a column's cells all have the same keys). New rows are alike until their
    cells go in, so any id may go to any row: sorted, the ids keep the planned order."""
    new_ids = sorted(
        db.session.scalars(
            insert(ROWS).returning(ROWS.c.id),
            [{"table_id": table_id, "created_at": utcnow()}] * len(batch),
        )
    )
    by_field: dict[str, list[tuple]] = {}
    links: list[dict] = []
    list_cells: list[dict] = []
    media: list[dict] = []
    for row_id, cells in zip(new_ids, batch, strict=True):
        for column, cell in cells.items():
            if not cell:
                continue
            if "links" in cell:
                links += _link_rows(row_id, column, cell)
                if column.type == "link_multiple":
                    list_cells.append(_list_cell(row_id, column))
                continue
            if "media" in cell:
                media.append(
                    {"row_id": row_id, "column_id": cell["column_id"], "data": cell["media"]}
                )
            # The keys, in _cell_planner's (and _media_cell's) order: the value's field second.
            _, field, *_ = cell
            by_field.setdefault(field, []).append(
                (row_id, cell["column_id"], cell[field], cell["size_bytes"])
            )
    connection = db.session.connection()
    for field, new in by_field.items():
        _insert_cells(connection, field, new)
    if list_cells:
        db.session.execute(insert(CELLS), list_cells)
    if media:
        db.session.execute(insert(DataMedia), media)
    if links:
        db.session.execute(insert(DataLink), links)
    return new_ids


def _insert_cells(connection: Connection, field: str, cells: list[tuple]) -> None:
    """Insert `cells` (row id, column id, value, size) holding their values in `field`: one
    executemany of plain tuples, the value converted as its column type would convert it
    (SQLAlchemy's per-parameter work was most of a bulk import's time)."""
    if field == "object_value":
        # JSON needs the type cast SQLAlchemy writes into its own statements (PostgreSQL).
        connection.execute(
            insert(CELLS),
            [
                {"row_id": row_id, "column_id": column_id, field: value, "size_bytes": size}
                for row_id, column_id, value, size in cells
            ],
        )
        return
    dialect = connection.dialect
    convert = CELLS.c[field].type.dialect_impl(dialect).bind_processor(dialect)
    if convert is not None:
        cells = [
            (row_id, column_id, convert(value), size) for row_id, column_id, value, size in cells
        ]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {CELLS.name} (row_id, column_id, {field}, size_bytes) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})",
        cells,
    )


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


def update_row(
    table: DataTable, row_id: int, values: dict[str, Any], account: bool = False
) -> None:
    """Set some of a row's values (None clears one). A Users table's account columns are
    set only with `account` (tables/users.py, from the account itself)."""
    if not account:
        _refuse_account_columns(table, values)
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
        db.session.execute(
            delete(DataCell).where(DataCell.row_id == row_id, DataCell.column_id.in_(column_ids))
        )
        db.session.execute(
            delete(DataLink).where(DataLink.row_id == row_id, DataLink.column_id.in_(column_ids))
        )
        db.session.execute(
            delete(DataMedia).where(DataMedia.row_id == row_id, DataMedia.column_id.in_(column_ids))
        )
        # Checked once this change holds the writer (SQLite), so no other write slips between.
        _check_quota(table, 0, new_size - old_size)
        _write(row_id, cells)
        _count(table.id, 0, new_size - old_size)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def add_account_row(table: DataTable, account_id: int) -> int:
    """A new empty row of Users table `table` standing for account `account_id`; its id.
    (The caller fills its account columns with update_row(..., account=True).)"""
    try:
        _check_quota(table, 1, 0)
        row = DataRow(table_id=table.id, account_id=account_id, created_at=utcnow())
        db.session.add(row)
        db.session.flush()
        _count(table.id, 1, 0)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row.id


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
    sizer = batch_sizer()
    wanted = None if row_ids is None else list(row_ids)
    gone = 0
    synced = True
    while True:
        try:
            most = sizer.size
            if wanted is None:
                batch = list(
                    db.session.scalars(
                        select(DataRow.id).where(in_table).order_by(DataRow.id).limit(most)
                    )
                )
                last = len(batch) < most
            else:
                batch, wanted = wanted[:most], wanted[most:]
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
            sizer.took(len(batch), commit_batch(started, more=not last))
        except Exception:
            db.session.rollback()
            raise
        gone += removed
        synced = last
        if last:
            return gone
