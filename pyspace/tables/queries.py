"""Searching a data table, host-side: widget queries become SQLAlchemy expressions.

Nothing from widget code is ever SQL text: a query names a column (looked up in the table the
run may use), an operator from a fixed list, and values that are checked against the column's
type and sent as bound parameters.

Query format (what `anvil.tables.query` sends):
    {"column": "temp", "query": {"op": "eq", "value": 20}}
    ops: eq, gt, lt, ge, le, like, ilike (one "value"); any_of, none_of ("values");
         not ("query": another query).

Ordering: `search(order_by('when', ascending=False))[:48]` reads the column's index
(`ix_data_cells_datetime`: column, value, row; see models.VALUE_INDEXES) backwards and stops
after 48 entries, so it costs the same on ten rows or a million. Rows with no value in the
ordering column come after the rows that have one, in either direction.
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import LINK_TYPES, DataCell, DataColumn, DataLink, DataRow, DataTable
from . import fulltext, simple_objects
from .columns import (
    CELL_FIELD,
    ORDERED_TYPES,
    RowRef,
    TableValueError,
    check_value,
    decode_wire,
    encode_wire,
    from_cell,
    parse_text,
)

# Bounds on what one request may make the database do: far beyond any real search.
MAX_FILTERS = 50
MAX_VALUES = 1000
MAX_DEPTH = 8


class QueryError(ValueError):
    """A query widget code sent that can't be run; the message says why, and `error` names
    the Anvil exception widget code gets for it."""

    def __init__(self, message: str, error: str = "TableError") -> None:
        super().__init__(message)
        self.error = error


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


def _has_link(column: DataColumn, *conditions: ColumnElement) -> ColumnElement:
    """The row links to a row in `column` (meeting `conditions`)."""
    return (
        exists()
        .where(DataLink.row_id == DataRow.id, DataLink.column_id == column.id, *conditions)
        .correlate_except(DataLink)
    )


def _link_targets(value: Any) -> list[int]:
    return [ref.id for ref in ([value] if isinstance(value, RowRef) else value)]


def _linked(column: DataColumn, value: Any) -> ColumnElement:
    """search(player=row): the row links to `row`; for link_multiple and a list of rows,
    to every one of them (as Anvil matches a multiple-link column)."""
    if value is None:
        return not_(_has_link(column))
    targets = _link_targets(value)
    return and_(true(), *(_has_link(column, DataLink.target_id == t) for t in targets))


def _value(table: DataTable, column: DataColumn, value: Any) -> Any:
    value = decode_wire(value)
    if column.type == "link_multiple" and isinstance(value, RowRef):
        # search(members=row): the rows whose list includes `row`.
        value = [value]
    try:
        return check_value(table.name, column.name, column.type, value)
    except (TableValueError, ValueError) as error:
        raise QueryError(str(error)) from None


def _full_text(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    """Rows whose text has the query's words (stemmed, case and accents ignored), through the
    database's full-text index (fulltext.py); `raw` reads PostgreSQL's tsquery syntax."""
    text = query.get("value")
    if column.type != "text":
        raise QueryError(
            f"q.full_text_match works on text columns; {column.name!r} is {column.type}."
        )
    if not isinstance(text, str):
        raise QueryError("q.full_text_match takes the text to look for.")
    try:
        node = fulltext.parse_raw(text) if query.get("raw") else fulltext.parse_plain(text)
    except fulltext.FullTextError as error:
        raise QueryError(str(error)) from None
    found = fulltext.condition(column.id, node)
    # A "!word" inside the query matches only rows that have text in the column, as a
    # tsquery does (a row with no value matches no full-text query).
    return and_(_has_cell(column), found) if fulltext.negates(node) else found


def _sqlite_glob(pattern: str) -> str:
    # SQLite's LIKE ignores case; GLOB doesn't. LIKE's % and _ become *, ?; GLOB's own
    # special characters are matched literally by putting them in brackets.
    special = {"*": "[*]", "?": "[?]", "[": "[[]", "%": "*", "_": "?"}
    return "".join(special.get(char, char) for char in pattern)


def _equal(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    value = _value(table, column, query.get("value"))
    if column.type in LINK_TYPES:
        return _linked(column, value)
    if value is None:
        return not_(_has_cell(column))
    _searchable(column)
    return _has_cell(column, _equals(column, value))


def _equals(column: DataColumn, value: Any) -> ColumnElement:
    """The cell's value is `value`; for a simple object, contains it, as Anvil searches."""
    if column.type != "simple_object":
        return _field(column) == value
    try:
        return simple_objects.contains(_field(column), value, db.engine.dialect.name)
    except simple_objects.ObjectQueryError as error:
        raise QueryError(str(error)) from None


def _compare(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    if column.type not in ORDERED_TYPES:
        raise QueryError(
            "q.greater_than and friends compare text, numbers, dates and datetimes; "
            f"{column.name!r} is {column.type}."
        )
    return _has_cell(column, _comparison(table, column, query))


COMPARISONS = ("gt", "lt", "ge", "le")


def _comparison(table: DataTable, column: DataColumn, query: dict) -> ColumnElement:
    """The condition on the cell's value itself (`number_value > 3`)."""
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
    return compared[query["op"]]


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


def _one_of_values(table: DataTable, column: DataColumn, op: str, values: list) -> ColumnElement:
    """any_of / none_of over plain values: one IN (...) on the column's index."""
    checked = [_value(table, column, value) for value in values]
    present = [value for value in checked if value is not None]
    parts = []
    if column.type == "link_single" and present:
        parts.append(_has_link(column, DataLink.target_id.in_([ref.id for ref in present])))
    elif column.type == "link_multiple":
        parts += [_linked(column, value) for value in present]
    elif column.type == "simple_object":
        parts += [_has_cell(column, _equals(column, value)) for value in present]
    elif present:
        _searchable(column)
        parts.append(_has_cell(column, _field(column).in_(present)))
    if len(present) < len(checked):
        no_value = _has_link(column) if column.type in LINK_TYPES else _has_cell(column)
        parts.append(not_(no_value))
    matched = or_(*parts) if parts else false()
    return matched if op == "any_of" else not_(matched)


def _combined(op: str, parts: list[ColumnElement]) -> ColumnElement:
    if op == "all_of":
        return and_(true(), *parts)
    matched = or_(false(), *parts)
    return matched if op == "any_of" else not_(matched)


def _is_query(value: Any) -> bool:
    return isinstance(value, dict) and "op" in value


def _of_values(query: dict) -> tuple[list, dict]:
    op, values, columns = query["op"], query.get("values", []), query.get("columns") or {}
    if not isinstance(values, list) or not isinstance(columns, dict):
        raise QueryError(f"q.{op} takes queries or values, and column=query keywords.")
    if len(values) + len(columns) > MAX_VALUES:
        raise QueryError(f"q.{op} takes at most {MAX_VALUES} values.")
    return values, columns


def _of_column(
    table: DataTable, column: DataColumn, query: dict, budget: "_Budget", depth: int
) -> ColumnElement:
    """all_of / any_of / none_of as one column's query."""
    op = query["op"]
    values, columns = _of_values(query)
    if columns:
        raise QueryError(
            f"q.{op}(column=...) combines columns: give it to search() itself, "
            f"not as the query for {column.name!r}."
        )
    if op != "all_of" and not any(_is_query(value) for value in values):
        budget.spend(len(values))
        return _one_of_values(table, column, op, values)
    if (
        op == "all_of"
        and values
        and column.type in ORDERED_TYPES
        and all(_is_query(value) and value["op"] in COMPARISONS for value in values)
    ):
        # q.between and its like: one range on the column's index (a row has one cell per
        # column), where separate EXISTS could make the planner join the cells twice.
        budget.spend(len(values))
        return _has_cell(column, *(_comparison(table, column, value) for value in values))
    return _combined(op, [condition(table, column, value, depth + 1, budget) for value in values])


def _negated(
    table: DataTable, column: DataColumn, query: dict, budget: "_Budget", depth: int
) -> ColumnElement:
    return not_(condition(table, column, query.get("query"), depth + 1, budget))


OPERATORS = {
    "eq": _equal,
    "gt": _compare,
    "lt": _compare,
    "ge": _compare,
    "le": _compare,
    "like": _like,
    "ilike": _like,
    "full_text_match": _full_text,
}
COMBINED = ("all_of", "any_of", "none_of")


class _Budget:
    """How many conditions one search may still build (so nesting can't multiply work)."""

    def __init__(self) -> None:
        self.left = MAX_VALUES

    def spend(self, count: int = 1) -> None:
        self.left -= count
        if self.left < 0:
            raise QueryError(f"A search can have at most {MAX_VALUES} conditions and values.")


def _searchable(column: DataColumn) -> None:
    if column.type == "media":
        raise QueryError(
            f"A media column can only be searched for no value (None) ({column.name!r})."
        )


def condition(
    table: DataTable,
    column: DataColumn,
    query: Any,
    depth: int = 0,
    budget: _Budget | None = None,
) -> ColumnElement:
    """The SQL condition for `query` on `column` (correlated to DataRow)."""
    budget = budget or _Budget()
    if depth > MAX_DEPTH:
        raise QueryError(f"Queries can be nested at most {MAX_DEPTH} deep.")
    budget.spend()
    if not _is_query(query):
        query = {"op": "eq", "value": query}
    op = query["op"]
    if op == "not":
        return _negated(table, column, query, budget, depth)
    if op in COMBINED:
        return _of_column(table, column, query, budget, depth)
    operator = OPERATORS.get(op)
    if operator is None:
        raise QueryError(f"Unknown query operator {op!r}.")
    if op != "eq" and column.type in LINK_TYPES:
        raise QueryError(
            f"Search a link column with rows (q.any_of(row1, row2)); {column.name!r} "
            f"can't be searched with q.{op}."
        )
    return operator(table, column, query)


def _positional(
    table: DataTable,
    columns: dict[str, DataColumn],
    query: Any,
    budget: _Budget,
    depth: int = 0,
) -> ColumnElement:
    """A query given to search() positionally: q.any_of(a=..., b=...) and nestings of them."""
    if depth > MAX_DEPTH:
        raise QueryError(f"Queries can be nested at most {MAX_DEPTH} deep.")
    budget.spend()
    if not _is_query(query) or query["op"] not in COMBINED:
        raise QueryError(
            "search() takes q.all_of / q.any_of / q.none_of / q.not_ (with column=query "
            "keywords), order_by(...), and column=value keywords."
        )
    values, named = _of_values(query)
    parts = [_positional(table, columns, value, budget, depth + 1) for value in values]
    for name, value in named.items():
        column = columns.get(name)
        if column is None:
            raise QueryError(no_such_column(table, name), "NoSuchColumnError")
        parts.append(condition(table, column, value, depth + 1, budget))
    return _combined(query["op"], parts)


def conditions(
    table: DataTable, columns: dict[str, DataColumn], filters: list
) -> list[ColumnElement]:
    """Every filter as a condition; an unknown column is an error.

    A filter is {"column": name, "query": q} (a column=value keyword of search()) or
    {"query": q} (a query given to search() positionally)."""
    if len(filters) > MAX_FILTERS:
        raise QueryError(f"A search can have at most {MAX_FILTERS} conditions.")
    budget = _Budget()
    found = []
    for item in filters:
        if not isinstance(item, dict):
            raise QueryError("Search with column=value or column=q.something(...).")
        if "column" not in item:
            found.append(_positional(table, columns, item.get("query"), budget))
            continue
        if not isinstance(item["column"], str):
            raise QueryError("Search with column=value or column=q.something(...).")
        column = columns.get(item["column"])
        if column is None:
            raise QueryError(no_such_column(table, item["column"]), "NoSuchColumnError")
        found.append(condition(table, column, item.get("query"), 0, budget))
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
    # `IS NOT NULL` (every cell of the column has a value) lets the planner use the column
    # type's partial index (models.VALUE_INDEXES).
    with_value = select(DataCell.row_id).where(DataCell.column_id == column.id, field.is_not(None))
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
    if column.type not in CELL_FIELD or column.type in ("simple_object", "media"):
        raise QueryError(f"Can't order by the {column.type} column {column.name!r}.")
    return column


def newest_row_ids(
    table: DataTable, offset: int, limit: int, where: list[ColumnElement] | None = None
) -> list[int]:
    """The Data panel's page: row ids newest first (of the rows matching `where`)."""
    statement = (
        select(DataRow.id)
        .where(DataRow.table_id == table.id, *(where or []))
        .order_by(DataRow.id.desc())
    )
    return _page(statement, offset, limit)


# A column name may hold spaces ("Task Name = Docs"), not the comparison signs.
PANEL_QUERY_RE = re.compile(r"^\s*([^<>=!]+?)\s*(<=|>=|!=|=|<|>)\s*(.*?)\s*$")
PANEL_OPS = {"<": "lt", ">": "gt", "<=": "le", ">=": "ge"}


def panel_filter(table: DataTable, text: str) -> list[ColumnElement]:
    """The Data panel's query box: `column = value` (or !=, <, >, <=, >=; the value typed as
    in a cell, empty for no value), or words that every matching row has in its text columns
    (the full-text index; each word also finds words it begins, so "bri" finds "Brian")."""
    columns = {column.name: column for column in table.columns}
    match = PANEL_QUERY_RE.match(text)
    if match and match.group(1) in columns:
        name, op, typed = match.groups()
        column = columns[name]
        try:
            value = encode_wire(parse_text(column.type, typed))
        except ValueError as error:
            raise QueryError(f"{name}: {error}") from None
        if op in PANEL_OPS:
            return [condition(table, column, {"op": PANEL_OPS[op], "value": value})]
        found = condition(table, column, value)
        return [found if op == "=" else not_(found)]
    texts = [column for column in table.columns if column.type == "text"]
    words = fulltext.WORD_RE.findall(text.lower())[: fulltext.MAX_TERMS]
    return [
        or_(
            false(),
            *(fulltext.condition(c.id, fulltext.Term((word,), prefix=True)) for c in texts),
        )
        for word in words
    ]


def row_values(columns: list[DataColumn], ids: list[int]) -> dict[int, dict[str, Any]]:
    """The values of rows `ids`, by row id: every column, None where a row has no value."""
    if not ids:
        return {}
    by_id = {column.id: column for column in columns}
    values: dict[int, dict[str, Any]] = {
        row_id: {column.name: None for column in columns} for row_id in ids
    }
    cells = db.session.execute(select(DataCell).where(DataCell.row_id.in_(ids))).scalars()
    for cell in cells:
        column = by_id.get(cell.column_id)
        if column is not None and column.type in CELL_FIELD:
            values[cell.row_id][column.name] = from_cell(column.type, _field(column, cell))
        elif column is not None and column.type == "link_multiple":
            # A list was set (rows.py's list cell): [] until its links are added below.
            values[cell.row_id][column.name] = []
    link_columns = [column.id for column in columns if column.type in LINK_TYPES]
    if link_columns:
        _add_links(values, by_id, ids, link_columns)
    return values


def _add_links(
    values: dict[int, dict[str, Any]], by_id: dict[int, Any], ids: list[int], link_columns: list
) -> None:
    """Put each row's links into `values` as RowRefs (a link to a deleted row reads as None)."""
    target = aliased(DataRow)
    links = db.session.execute(
        select(DataLink.row_id, DataLink.column_id, DataLink.target_id, DataTable.name)
        .join(target, target.id == DataLink.target_id)
        .join(DataTable, DataTable.id == target.table_id)
        .where(DataLink.row_id.in_(ids), DataLink.column_id.in_(link_columns))
        .order_by(DataLink.row_id, DataLink.column_id, DataLink.position)
    )
    for row_id, column_id, target_id, table_name in links:
        column = by_id[column_id]
        ref = RowRef(table_name, target_id)
        if column.type == "link_single":
            values[row_id][column.name] = ref
        else:
            values[row_id][column.name] = [*(values[row_id][column.name] or []), ref]
