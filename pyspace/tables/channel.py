"""Answering `anvil.tables` from inside a run (channel services).

Every request names a table by name; it is looked up among **the run's widget's** tables and
nowhere else, so no name, id or query a run sends can reach another widget's data. Row ids
are checked to belong to that table before anything is read or changed.

A refusal carries the name of the Anvil exception widget code raises for it (`"error":
"RowDeleted"`, `"NoSuchColumnError"`, `"TransactionConflict"`, `"QuotaExceededError"`, else
`"TableError"`). While the run has a transaction open (`transactions.py`), every request is
answered inside it.
"""

import base64
import csv
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

from flask import current_app

from ..extensions import db
from ..models import LINK_TYPES, DataTable, Widget
from ..sandbox.services import Answer, RunContext
from . import transactions
from .columns import (
    TableValueError,
    anvil_type,
    check_value,
    decode_wire,
    encode_wire,
    format_text,
    from_cell,
)
from .queries import Order, QueryError, conditions, count_rows, row_ids, row_values
from .rows import (
    QuotaError,
    RowChangeError,
    add_missing_columns,
    add_rows,
    columns_by_name,
    delete_rows,
    media_bytes,
    row_of,
    update_row,
)
from .schema import table_named, tables_of

log = logging.getLogger(__name__)

# Rows one search request may fetch: the runtime pages through bigger results lazily.
MAX_PAGE = 500
# Rows one add_rows request may add.
MAX_ADD_ROWS = 1000


class RefusedError(Exception):
    """Ends a request with a message for widget code, and the Anvil exception it raises."""

    def __init__(self, message: str, error: str = "TableError") -> None:
        super().__init__(message)
        self.error = error


def refused(message: str, error: str = "TableError") -> Answer:
    return {"ok": False, "message": message, "error": error}


def _table(request: dict, run: RunContext) -> DataTable:
    name = request.get("table")
    if not isinstance(name, str):
        raise RefusedError("Tables are named with strings, like app_tables.readings")
    table = table_named(run.widget_id, name)
    if table is None:
        raise RefusedError(f"This widget has no table named {name!r}. Create it in the Data panel.")
    return table


def _values(values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise RefusedError("Row values are given as column=value keywords.")
    return {str(name): decode_wire(value) for name, value in values.items()}


def _row_answer(table: DataTable, ids: list[int], only: list[str] | None = None) -> list[dict]:
    columns = table.columns if only is None else [c for c in table.columns if c.name in only]
    values = row_values(columns, ids)
    return [
        {"id": str(row_id), "values": {k: encode_wire(v) for k, v in values[row_id].items()}}
        for row_id in ids
    ]


def _row_id(table: DataTable, request: dict) -> int:
    """The request's row, which must still exist (using a deleted row is RowDeleted)."""
    row_id = row_of(table, request.get("id"))
    if row_id is None:
        raise RefusedError(
            f"Table {table.name!r} has no row with id {request.get('id')!r} "
            "(it may have been deleted).",
            "RowDeleted",
        )
    return row_id


def describe(request: dict, run: RunContext) -> Answer:
    """The table's id and columns: [{"name", "type"}] with Anvil's type names."""
    table = _table(request, run)
    columns = []
    for column in table.columns:
        described = {"name": column.name, "type": anvil_type(column.type)}
        if column.link_table is not None:
            described["table"] = column.link_table.name
        columns.append(described)
    return {"ok": True, "id": str(table.id), "columns": columns}


def list_tables(request: dict, run: RunContext) -> Answer:
    """The widget's tables (names and ids), for iterating over app_tables."""
    tables = [{"name": t.name, "id": str(t.id)} for t in tables_of(run.widget_id)]
    return {"ok": True, "tables": tables}


def _with_new_columns(table: DataTable, rows: list[dict[str, Any]], run: RunContext) -> None:
    """With the widget's auto-columns switch on, create the columns `rows` name that the table
    lacks (as Anvil's "Add columns automatically when adding a new row")."""
    names = {column.name for column in table.columns}
    if all(name in names for values in rows for name in values):
        return
    widget = db.session.get(Widget, run.widget_id)
    if widget is not None and widget.tables_auto_columns:
        add_missing_columns(table, rows)


def _stored(table: DataTable, values: dict[str, Any]) -> dict[str, Any] | None:
    """A new row's values as a read would give them, from the values just checked and
    written (no second trip to the database: add_row is the call widgets make in loops);
    None when the table has link or media columns (those are read back instead)."""
    columns = [(column.name, column.type) for column in table.columns]
    if any(type_ in (*LINK_TYPES, "media") for _, type_ in columns):
        return None
    try:
        return {
            name: from_cell(type_, check_value(table.name, name, type_, values.get(name)))
            for name, type_ in columns
        }
    except TableValueError:
        return None  # add_rows refuses the row, saying why


def add(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    values = _values(request.get("values"))
    _with_new_columns(table, [values], run)
    # Read before the commit expires the table.
    stored = _stored(table, values)
    (row_id,) = add_rows(table, [values])
    if stored is None:
        return {"ok": True, "row": _row_answer(table, [row_id])[0]}
    wire = {name: encode_wire(value) for name, value in stored.items()}
    return {"ok": True, "row": {"id": str(row_id), "values": wire}}


def add_many(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    rows = request.get("rows")
    if not isinstance(rows, list):
        raise RefusedError("add_rows takes a list of dicts of column values.")
    if len(rows) > MAX_ADD_ROWS:
        raise RefusedError(f"add_rows adds at most {MAX_ADD_ROWS:,} rows at a time.")
    decoded = [_values(values) for values in rows]
    _with_new_columns(table, decoded, run)
    ids = add_rows(table, decoded)
    return {"ok": True, "rows": _row_answer(table, ids)}


def _where(table: DataTable, request: dict) -> list:
    filters = request.get("filters") or []
    if not isinstance(filters, list):
        raise RefusedError("Search filters are column=value keywords.")
    return conditions(table, columns_by_name(table), filters)


def _order(table: DataTable, request: dict) -> list[Order]:
    columns = columns_by_name(table)
    order = []
    for item in request.get("order") or []:
        name = item.get("column") if isinstance(item, dict) else None
        if name not in columns:
            raise RefusedError(
                f"Can't order by {name!r}: table {table.name!r} has no such column.",
                "NoSuchColumnError",
            )
        order.append(Order(columns[name], bool(item.get("ascending", True))))
    return order


def _only(table: DataTable, request: dict) -> list[str] | None:
    """The columns a q.fetch_only / q.only_cols search loads (None: all)."""
    only = request.get("columns")
    if only is None:
        return None
    names = columns_by_name(table)
    if not isinstance(only, list) or not all(isinstance(name, str) for name in only):
        raise RefusedError("q.fetch_only takes column names.")
    for name in only:
        if name not in names:
            raise RefusedError(f"Table {table.name!r} has no column {name!r}.", "NoSuchColumnError")
    return only


def _whole_number(value: Any, default: int, most: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RefusedError("Search offsets and limits are whole numbers of at least 0.")
    return min(value, most)


def search(request: dict, run: RunContext) -> Answer:
    """One page of a search: rows `offset` … `offset + limit`, filtered and ordered."""
    table = _table(request, run)
    where = _where(table, request)
    offset = _whole_number(request.get("offset"), 0, 2**62)
    limit = _whole_number(request.get("limit"), 100, MAX_PAGE)
    ids = row_ids(table, where, _order(table, request), offset, limit)
    return {"ok": True, "rows": _row_answer(table, ids, _only(table, request))}


def count(request: dict, run: RunContext) -> Answer:
    """How many rows a search matches (`len(search(...))`)."""
    table = _table(request, run)
    return {"ok": True, "count": count_rows(table, _where(table, request))}


def _csv_lines(
    table: DataTable, where: list, order: list[Order], offset: int, limit: int
) -> Iterator[str]:
    """The search's rows as CSV lines, in the Data panel export's format, a page at a time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(cells)
        return out.getvalue()

    # Media columns hold files, which a CSV can't: they are left out, as in the Data panel's.
    columns = [column for column in table.columns if column.type != "media"]
    yield line([column.name for column in columns])
    while limit > 0:
        ids = row_ids(table, where, order, offset, min(MAX_PAGE, limit))
        values = row_values(columns, ids)
        for row_id in ids:
            yield line([format_text(c.type, values[row_id][c.name]) for c in columns])
        if len(ids) < min(MAX_PAGE, limit):
            return
        offset, limit = offset + len(ids), limit - len(ids)


def to_csv(request: dict, run: RunContext) -> Answer:
    """A search's rows as CSV text (Table.to_csv / SearchIterator.to_csv), size-capped."""
    table = _table(request, run)
    where, order = _where(table, request), _order(table, request)
    offset = _whole_number(request.get("offset"), 0, 2**62)
    limit = _whole_number(request.get("limit"), 2**62, 2**62)
    most = current_app.config["TABLES_CSV_MAX_BYTES"]
    parts: list[str] = []
    size = 0
    for part in _csv_lines(table, where, order, offset, limit):
        size += len(part.encode("utf-8"))
        if size > most:
            raise RefusedError(
                f"The CSV of table {table.name!r} would be over {most:,} bytes: "
                "export part of it (a search, or a slice of one)."
            )
        parts.append(part)
    return {"ok": True, "csv": "".join(parts)}


def get_by_id(request: dict, run: RunContext) -> Answer:
    """The row with that id, or None when the table has none (as Anvil answers)."""
    table = _table(request, run)
    row_id = row_of(table, request.get("id"))
    return {"ok": True, "row": None if row_id is None else _row_answer(table, [row_id])[0]}


def get_media(request: dict, run: RunContext) -> Answer:
    """The bytes of a row's media value (a Media's get_bytes()), base64, with what it is."""
    table = _table(request, run)
    row_id = _row_id(table, request)
    column = columns_by_name(table).get(str(request.get("column")))
    if column is None or column.type != "media":
        raise RefusedError(
            f"Table {table.name!r} has no media column {request.get('column')!r}.",
            "NoSuchColumnError",
        )
    data = media_bytes(table, row_id, column)
    if data is None:
        return {"ok": True, "media": None}
    meta = row_values([column], [row_id])[row_id][column.name]
    return {
        "ok": True,
        "media": {
            "content_type": meta.content_type,
            "name": meta.name,
            "data": base64.b64encode(data).decode("ascii"),
        },
    }


def has_row(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    return {"ok": True, "found": row_of(table, request.get("id")) is not None}


def update(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    row_id = _row_id(table, request)
    update_row(table, row_id, _values(request.get("values")))
    return {"ok": True, "row": _row_answer(table, [row_id])[0]}


def delete(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    delete_rows(table, [_row_id(table, request)])
    return {"ok": True}


def delete_all(request: dict, run: RunContext) -> Answer:
    delete_rows(_table(request, run))
    return {"ok": True}


def open_transaction(request: dict, run: RunContext) -> Answer:
    transactions.open_transaction(run, relaxed=bool(request.get("relaxed")))
    return {"ok": True}


def close_transaction(request: dict, run: RunContext) -> Answer:
    transactions.close_transaction(run, abort=bool(request.get("abort")))
    return {"ok": True}


def _answering(handler: Callable[[dict, RunContext], Answer], joins: bool = True) -> Callable:
    """`handler` run in the run's transaction if it has one (`joins`), with its refusals
    turned into answers, and server faults kept from the run."""

    def attempt(request: dict, run: RunContext) -> Answer:
        try:
            return handler(request, run)
        except RefusedError as error:
            return refused(str(error), error.error)
        except QueryError as error:
            return refused(str(error), error.error)
        except QuotaError as error:
            return refused(str(error), "QuotaExceededError")
        except RowChangeError as error:
            return refused(str(error), error.error)

    def answer(request: dict, run: RunContext) -> Answer:
        try:
            if not joins:
                return attempt(request, run)
            return transactions.within(run, lambda: attempt(request, run))
        except transactions.TransactionError as error:
            return refused(str(error), error.error)
        except Exception:
            log.exception("data table request failed for widget %s", run.widget_id)
            db.session.rollback()
            return refused("The data table could not be used because of a problem on the server.")

    return answer


SERVICES = {
    f"tables_{name}": _answering(handler, joins=not name.endswith("_transaction"))
    for name, handler in {
        "describe": describe,
        "list": list_tables,
        "add_row": add,
        "add_rows": add_many,
        "search": search,
        "count": count,
        "to_csv": to_csv,
        "get_by_id": get_by_id,
        "get_media": get_media,
        "has_row": has_row,
        "update_row": update,
        "delete_row": delete,
        "delete_all_rows": delete_all,
        "open_transaction": open_transaction,
        "close_transaction": close_transaction,
    }.items()
}
