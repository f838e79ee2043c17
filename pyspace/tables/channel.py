"""Answering `anvil.tables` from inside a run (channel services).

Every request names a table by name; it is looked up among **the run's widget's** tables and
nowhere else, so no name, id or query a run sends can reach another widget's data. Row ids
are checked to belong to that table before anything is read or changed.
"""

import logging
from collections.abc import Callable
from typing import Any

from ..extensions import db
from ..models import DataTable
from ..sandbox.services import Answer, RunContext, refusal
from .columns import check_value, decode_wire, encode_wire, from_cell
from .queries import Order, QueryError, conditions, count_rows, row_ids, row_values
from .rows import RowChangeError, add_row, columns_by_name, delete_rows, row_of, update_row
from .schema import table_named

log = logging.getLogger(__name__)

# Rows one search request may fetch: the runtime pages through bigger results lazily.
MAX_PAGE = 500


class RefusedError(Exception):
    """Ends a request with a message for widget code."""


def _table(request: dict, run: RunContext) -> DataTable:
    name = request.get("table")
    if not isinstance(name, str):
        raise RefusedError("Tables are named with strings, like app_tables.readings")
    table = table_named(run.widget_id, name)
    if table is None:
        raise RefusedError(f"This widget has no table named {name!r}. Create it in the Data panel.")
    return table


def _values(request: dict) -> dict[str, Any]:
    values = request.get("values")
    if not isinstance(values, dict):
        raise RefusedError("Row values are given as column=value keywords.")
    return {str(name): decode_wire(value) for name, value in values.items()}


def _row_answer(table: DataTable, ids: list[int]) -> list[dict]:
    values = row_values(table.columns, ids)
    return [
        {"id": str(row_id), "values": {k: encode_wire(v) for k, v in values[row_id].items()}}
        for row_id in ids
    ]


def _row_id(table: DataTable, request: dict) -> int:
    row_id = row_of(table, request.get("id"))
    if row_id is None:
        raise RefusedError(f"Table {table.name!r} has no row with id {request.get('id')!r}.")
    return row_id


def describe(request: dict, run: RunContext) -> Answer:
    """The table's columns: [{"name", "type"}], also what `list_columns()` returns."""
    table = _table(request, run)
    columns = [{"name": column.name, "type": column.type} for column in table.columns]
    return {"ok": True, "columns": columns}


def add(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    # Read before the commit expires them: the answer is built from the checked values, with
    # no second trip to the database (add_row is the call widgets make in loops).
    name, columns = table.name, [(column.name, column.type) for column in table.columns]
    values = _values(request)
    row_id = add_row(table, values)
    stored = {
        column: from_cell(type_, check_value(name, column, type_, values.get(column)))
        for column, type_ in columns
    }
    return {
        "ok": True,
        "row": {"id": str(row_id), "values": {k: encode_wire(v) for k, v in stored.items()}},
    }


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
            raise RefusedError(f"Can't order by {name!r}: table {table.name!r} has no such column.")
        order.append(Order(columns[name], bool(item.get("ascending", True))))
    return order


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
    return {"ok": True, "rows": _row_answer(table, ids)}


def count(request: dict, run: RunContext) -> Answer:
    """How many rows a search matches (`len(search(...))`)."""
    table = _table(request, run)
    return {"ok": True, "count": count_rows(table, _where(table, request))}


def get_by_id(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    return {"ok": True, "row": _row_answer(table, [_row_id(table, request)])[0]}


def update(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    row_id = _row_id(table, request)
    update_row(table, row_id, _values(request))
    return {"ok": True, "row": _row_answer(table, [row_id])[0]}


def delete(request: dict, run: RunContext) -> Answer:
    table = _table(request, run)
    delete_rows(table, [_row_id(table, request)])
    return {"ok": True}


def delete_all(request: dict, run: RunContext) -> Answer:
    delete_rows(_table(request, run))
    return {"ok": True}


def _answering(handler: Callable[[dict, RunContext], Answer]) -> Callable:
    """`handler` with its refusals turned into answers, and server faults kept from the run."""

    def answer(request: dict, run: RunContext) -> Answer:
        try:
            return handler(request, run)
        except (RefusedError, QueryError, RowChangeError) as error:
            return refusal(str(error))
        except Exception:
            log.exception("data table request failed for widget %s", run.widget_id)
            db.session.rollback()
            return refusal("The data table could not be used because of a problem on the server.")

    return answer


SERVICES = {
    f"tables_{name}": _answering(handler)
    for name, handler in {
        "describe": describe,
        "add_row": add,
        "search": search,
        "count": count,
        "get_by_id": get_by_id,
        "update_row": update,
        "delete_row": delete,
        "delete_all_rows": delete_all,
    }.items()
}
