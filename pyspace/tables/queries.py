"""Searching a data table, host-side: widget queries become SQLAlchemy expressions.

Nothing from widget code is ever SQL text: a query names a column (looked up in the table the
run may use), an operator from a fixed list, and values that are checked against the column's
type and sent as bound parameters.

Query format (what `anvil.tables.query` sends):
    {"column": "temp", "query": {"op": "eq", "value": 20}}
    ops: eq, gt, lt, ge, le, like, ilike (one "value"); any_of, none_of ("values");
         not ("query": another query).

Ordering: `search(order_by('when', ascending=False))[:48]` reads the column's index
(`ix_data_cells_datetime`: column, value, row) backwards and stops after 48 entries, so it costs
the same on ten rows or a million. Rows with no value in the ordering column come after the
rows that have one, in either direction.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import DataCell, DataColumn, DataRow, DataTable
from .columns import CELL_FIELD, ORDERED_TYPES, TableValueError, check_value, decode_wire, from_cell

# Bounds on what one request may make the database do: far beyond any real search.
MAX_FILTERS = 50
MAX_VALUES = 1000
MAX_DEPTH = 8


class QueryError(ValueError):
    """A query widget code sent that can't be run; the message says why."""


@dataclass(frozen=True)
class Order:
    column: DataColumn
    ascending: bool = True


def _field(column: DataColumn, cell=DataCell):
    return getattr(cell, CELL_FIELD[column.type])


def _has_cell(column: DataColumn, *conditions: ColumnElement) -> ColumnElement:
    """The row has a value in `column` (meeting `conditions`)."""
    # Correlated to the outer DataRow only: the ordered search also selects from DataCell.
    return (
        exists()
        .where(DataCell.row_id == DataRow.id, DataCell.column_id == column.id, *conditions)
        .correlate_except(DataCell)
    )


def _value(table: DataTable, column: DataColumn, value: Any) -> Any:
    try:
        return check_value(table.name, column.name, column.type, decode_wire(value))
    except (TableValueError, ValueError) as error:
        raise QueryError(str(error)) from None


def _like_pattern(column: DataColumn, pattern: Any, op: str) -> str:
    if column.type != "text":
        raise QueryError(f"q.{op} works on text columns; {column.name!r} is {column.type}.")
    if not isinstance(pattern, str):
        raise QueryError(f"q.{op} takes a pattern string, like q.{op}('%rain%').")
    return pattern


def _sqlite_glob(pattern: str) -> str:
    # SQLite's LIKE ignores case; GLOB doesn't. LIKE's % and _ become *, ?; GLOB's own
    # special characters are matched literally by putting them in brackets.
    special = {"*": "[*]", "?": "[?]", "[": "[[]", "%": "*", "_": "?"}
    return "".join(special.get(char, char) for char in pattern)


def _equal(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    value = _value(table, column, query.get("value"))
    if value is None:
        return not_(_has_cell(column))
    _searchable(column)
    return _has_cell(column, _field(column) == value)


def _compare(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    if column.type not in ORDERED_TYPES:
        raise QueryError(
            "q.greater_than and friends compare text, numbers, dates and datetimes; "
            f"{column.name!r} is {column.type}."
        )
    value = _value(table, column, query.get("value"))
    if value is None:
        raise QueryError(f"Can't compare {column.name!r} with None.")
    field = _field(column)
    compared = {
        "gt": field > value,
        "lt": field < value,
        "ge": field >= value,
        "le": field <= value,
    }
    return _has_cell(column, compared[query["op"]])


def _like(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    op = query["op"]
    pattern = query.get("value")
    if column.type != "text":
        raise QueryError(f"q.{op} works on text columns; {column.name!r} is {column.type}.")
    if not isinstance(pattern, str):
        raise QueryError(f"q.{op} takes a pattern string, like q.{op}('%rain%').")
    field = _field(column)
    if op == "ilike":
        return _has_cell(column, field.ilike(pattern))
    if db.engine.dialect.name == "sqlite":
        return _has_cell(column, field.op("GLOB")(_sqlite_glob(pattern)))
    return _has_cell(column, field.like(pattern))


def _one_of(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    op, values = query["op"], query.get("values")
    if not isinstance(values, list):
        raise QueryError(f"q.{op} takes values: q.{op}('a', 'b').")
    if len(values) > MAX_VALUES:
        raise QueryError(f"q.{op} takes at most {MAX_VALUES} values.")
    checked = [_value(table, column, value) for value in values]
    present = [value for value in checked if value is not None]
    parts = []
    if present:
        _searchable(column)
        parts.append(_has_cell(column, _field(column).in_(present)))
    if len(present) < len(checked):
        parts.append(not_(_has_cell(column)))
    matched = or_(*parts) if parts else false()
    return matched if op == "any_of" else not_(matched)


def _negated(table: DataTable, column: DataColumn, query: dict, depth: int) -> ColumnElement:
    if depth >= MAX_DEPTH:
        raise QueryError(f"Queries can be nested at most {MAX_DEPTH} deep.")
    return not_(condition(table, column, query.get("query"), depth + 1))


OPERATORS = {
    "eq": _equal,
    "gt": _compare,
    "lt": _compare,
    "ge": _compare,
    "le": _compare,
    "like": _like,
    "ilike": _like,
    "any_of": _one_of,
    "none_of": _one_of,
}


def _searchable(column: DataColumn) -> None:
    if column.type == "simple_object":
        raise QueryError(
            f"Searching inside simple_object columns isn't supported ({column.name!r})."
        )


def condition(table: DataTable, column: DataColumn, query: Any, depth: int = 0) -> ColumnElement:
    """The SQL condition for `query` on `column` (correlated to DataRow)."""
    if not isinstance(query, dict) or "op" not in query:
        query = {"op": "eq", "value": query}
    if query["op"] == "not":
        return _negated(table, column, query, depth)
    operator = OPERATORS.get(query["op"])
    if operator is None:
        raise QueryError(f"Unknown query operator {query['op']!r}.")
    return operator(table, column, query)


def conditions(
    table: DataTable, columns: dict[str, DataColumn], filters: list
) -> list[ColumnElement]:
    """Every filter as a condition; an unknown column is an error."""
    if len(filters) > MAX_FILTERS:
        raise QueryError(f"A search can have at most {MAX_FILTERS} conditions.")
    found = []
    for item in filters:
        if not isinstance(item, dict) or not isinstance(item.get("column"), str):
            raise QueryError("Search with column=value or column=q.something(...).")
        column = columns.get(item["column"])
        if column is None:
            raise QueryError(no_such_column(table, item["column"]))
        found.append(condition(table, column, item.get("query")))
    return found


def no_such_column(table: DataTable, name: str) -> str:
    return f"Table {table.name!r} has no column {name!r}."


def count_rows(table: DataTable, where: list[ColumnElement]) -> int:
    """How many rows of `table` match `where`."""
    return (
        db.session.scalar(
            select(func.count()).select_from(DataRow).where(DataRow.table_id == table.id, *where)
        )
        or 0
    )


def row_ids(
    table: DataTable,
    where: list[ColumnElement],
    order: list[Order],
    offset: int,
    limit: int,
) -> list[int]:
    """The ids of rows `offset` … `offset + limit` of the search, in order."""
    in_table = [DataRow.table_id == table.id, *where]
    if not order:
        statement = select(DataRow.id).where(*in_table).order_by(DataRow.id)
        return _page(statement, offset, limit)
    if len(order) == 1:
        return _ordered_by_one(table, where, order[0], offset, limit)
    return _ordered_by_many(in_table, order, offset, limit)


def _page(statement: Select, offset: int, limit: int) -> list[int]:
    return list(db.session.scalars(statement.offset(offset).limit(limit)))


def _ordered_by_one(
    table: DataTable, where: list[ColumnElement], order: Order, offset: int, limit: int
) -> list[int]:
    """The fast path: walk the column's index, then the rows with no value in it."""
    column = _orderable(order.column)
    field = _field(column)
    direction = (lambda e: e.asc()) if order.ascending else (lambda e: e.desc())
    with_value = select(DataCell.row_id).where(DataCell.column_id == column.id)
    if where:
        # Filters are correlated to DataRow: join it only when there are some.
        with_value = with_value.join(DataRow, DataRow.id == DataCell.row_id).where(*where)
    with_value = with_value.order_by(direction(field), direction(DataCell.row_id))
    ids = _page(with_value, offset, limit)
    if len(ids) == limit:
        return ids
    if ids:
        skip = 0
    else:
        counted = select(func.count()).select_from(with_value.order_by(None).subquery())
        skip = max(0, offset - (db.session.scalar(counted) or 0))
    without_value = (
        select(DataRow.id)
        .where(DataRow.table_id == table.id, not_(_has_cell(column)), *where)
        .order_by(DataRow.id)
    )
    return ids + _page(without_value, skip, limit - len(ids))


def _ordered_by_many(
    in_table: list[ColumnElement], order: list[Order], offset: int, limit: int
) -> list[int]:
    statement = select(DataRow.id).where(*in_table)
    keys = []
    for item in order:
        column = _orderable(item.column)
        cell = aliased(DataCell)
        statement = statement.outerjoin(
            cell, and_(cell.row_id == DataRow.id, cell.column_id == column.id)
        )
        field = _field(column, cell)
        keys += [field.is_(None), field.asc() if item.ascending else field.desc()]
    keys.append(DataRow.id.asc() if order[0].ascending else DataRow.id.desc())
    return _page(statement.order_by(*keys), offset, limit)


def _orderable(column: DataColumn) -> DataColumn:
    if column.type == "simple_object":
        raise QueryError(f"Can't order by the simple_object column {column.name!r}.")
    return column


def newest_row_ids(table: DataTable, offset: int, limit: int) -> list[int]:
    """The Data panel's page: row ids newest first."""
    statement = select(DataRow.id).where(DataRow.table_id == table.id).order_by(DataRow.id.desc())
    return _page(statement, offset, limit)


def row_values(columns: list[DataColumn], ids: list[int]) -> dict[int, dict[str, Any]]:
    """The values of rows `ids`, by row id: every column, None where a row has no value."""
    if not ids:
        return {}
    by_id = {column.id: column for column in columns}
    values = {row_id: {column.name: None for column in columns} for row_id in ids}
    cells = db.session.execute(select(DataCell).where(DataCell.row_id.in_(ids))).scalars()
    for cell in cells:
        column = by_id.get(cell.column_id)
        if column is not None:
            values[cell.row_id][column.name] = from_cell(column.type, _field(column, cell))
    return values
