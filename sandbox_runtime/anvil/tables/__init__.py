"""Data tables: `from anvil.tables import app_tables`, as in Anvil (a subset).

    row = app_tables.readings.add_row(when=datetime.now(timezone.utc), temp=21.5)
    latest = app_tables.readings.search(tables.order_by("when", ascending=False))[:48]
    warm = app_tables.readings.search(temp=q.greater_than(20))

Every operation is a request over the run's channel; the web app answers it for this widget's
tables only, checking each value against its column's type. Searches are lazy: rows arrive a
page at a time as you iterate, `len()` asks for a count, and slicing narrows what is fetched.
"""

import json
from datetime import date, datetime

from .. import _channel

# Rows fetched per request while iterating over a search.
PAGE_SIZE = 100


class TableError(Exception):
    """A table operation failed: no such table or column, a value of the wrong type, a quota."""


def _encode(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if hasattr(value, "_pyspace_query"):
        return value._pyspace_query()
    return value


def _decode(value):
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(text)
        if tag == "$date":
            return date.fromisoformat(text)
    return value


def _ask(table, op, **payload):
    message = {"op": "tables_" + op, "table": table, **payload}
    try:
        json.dumps(message)
    except (TypeError, ValueError) as error:
        raise TableError(f"Table {table!r}: a value can't be stored ({error})") from None
    answer = _channel.ask(message)
    if not answer.get("ok"):
        raise TableError(answer.get("message") or f"Table {table!r} could not be used")
    return answer


def _values(values):
    return {name: _encode(value) for name, value in values.items()}


class order_by:  # noqa: N801 - Anvil's name
    """Order a search by a column: `search(tables.order_by('when', ascending=False))`."""

    def __init__(self, column_name, ascending=True):
        if not isinstance(column_name, str):
            raise TypeError("order_by takes a column name, like order_by('when')")
        self.column_name = column_name
        self.ascending = bool(ascending)

    def __repr__(self):
        return f"order_by({self.column_name!r}, ascending={self.ascending})"


class Row:
    """One row of a data table: `row['temp']`, `row.update(temp=20)`, `row.delete()`."""

    def __init__(self, table, wire):
        self._table = table
        self._id = wire["id"]
        self._values = {name: _decode(value) for name, value in wire["values"].items()}

    def get_id(self):
        """The row's unique id (a string), for `get_by_id`."""
        return self._id

    def __getitem__(self, column):
        if column not in self._values:
            raise TableError(f"Table {self._table._name!r} has no column {column!r}")
        return self._values[column]

    def __setitem__(self, column, value):
        self.update(**{column: value})

    def get(self, column, default=None):
        value = self._values.get(column)
        return default if value is None else value

    def update(self, **values):
        """Set several columns at once (None clears a value)."""
        answer = _ask(self._table._name, "update_row", id=self._id, values=_values(values))
        self._values = {name: _decode(v) for name, v in answer["row"]["values"].items()}

    def delete(self):
        """Delete the row from its table."""
        _ask(self._table._name, "delete_row", id=self._id)

    def keys(self):
        return list(self._values)

    def items(self):
        return list(self._values.items())

    def __iter__(self):
        # Like Anvil's rows: iterating gives (column, value) pairs, so dict(row) works.
        return iter(self._values.items())

    def __eq__(self, other):
        return isinstance(other, Row) and (other._table._name, other._id) == (
            self._table._name,
            self._id,
        )

    def __hash__(self):
        return hash((self._table._name, self._id))

    def __repr__(self):
        return f"<Row {self._table._name}[{self._id}] {self._values!r}>"


class SearchIterator:
    """The rows a search matches, fetched lazily a page at a time."""

    def __init__(self, table, filters, order, start=0, stop=None):
        self._table = table
        self._filters = filters
        self._order = order
        self._start = start
        self._stop = stop
        self._count = None

    def _fetch(self, offset, limit):
        answer = _ask(
            self._table._name,
            "search",
            filters=self._filters,
            order=self._order,
            offset=offset,
            limit=limit,
        )
        return [Row(self._table, wire) for wire in answer["rows"]]

    def __iter__(self):
        offset = self._start
        while True:
            limit = PAGE_SIZE if self._stop is None else min(PAGE_SIZE, self._stop - offset)
            if limit <= 0:
                return
            rows = self._fetch(offset, limit)
            yield from rows
            if len(rows) < limit:
                return
            offset += len(rows)

    def _total(self):
        if self._count is None:
            answer = _ask(self._table._name, "count", filters=self._filters)
            self._count = answer["count"]
        return self._count

    def __len__(self):
        end = self._total() if self._stop is None else min(self._total(), self._stop)
        return max(0, end - self._start)

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1):
                return list(self)[index]
            start, stop = index.start or 0, index.stop
            if start < 0 or (stop is not None and stop < 0):
                start, stop, _ = index.indices(len(self))
            new_start = self._start + start
            new_stop = None if stop is None else self._start + max(stop, start)
            if self._stop is not None:
                new_stop = self._stop if new_stop is None else min(new_stop, self._stop)
            return SearchIterator(self._table, self._filters, self._order, new_start, new_stop)
        if not isinstance(index, int):
            raise TypeError("search results are indexed by whole numbers or slices")
        if index < 0:
            index += len(self)
        position = self._start + index
        if index < 0 or (self._stop is not None and position >= self._stop):
            raise IndexError("search result index out of range")
        rows = self._fetch(position, 1)
        if not rows:
            raise IndexError("search result index out of range")
        return rows[0]

    def __repr__(self):
        return f"<SearchIterator over {self._table._name}>"


def _search_arguments(table, args, filters):
    order = []
    for arg in args:
        if isinstance(arg, order_by):
            order.append({"column": arg.column_name, "ascending": arg.ascending})
        else:
            raise TableError(
                f"Table {table!r}: search takes order_by(...) and column=value keywords; "
                f"combining queries with positional arguments is not supported ({arg!r})"
            )
    wire = [{"column": name, "query": _encode(value)} for name, value in filters.items()]
    return wire, order


class Table:
    """One of this widget's tables: `app_tables.readings`."""

    def __init__(self, name):
        self._name = name

    def add_row(self, **values):
        """Add a row (column=value keywords; other columns are None) and return it."""
        answer = _ask(self._name, "add_row", values=_values(values))
        return Row(self, answer["row"])

    def search(self, *args, **filters):
        """Rows matching column=value (or column=q.…) keywords, in order_by(...) order."""
        wire, order = _search_arguments(self._name, args, filters)
        return SearchIterator(self, wire, order)

    def get(self, *args, **filters):
        """The one row matching the keywords, None if none does; TableError if several do."""
        wire, order = _search_arguments(self._name, args, filters)
        rows = SearchIterator(self, wire, order)._fetch(0, 2)
        if len(rows) > 1:
            raise TableError(f"More than one row of table {self._name!r} matched get({filters!r})")
        return rows[0] if rows else None

    def get_by_id(self, row_id):
        """The row whose `get_id()` is `row_id`; TableError if there is none."""
        return Row(self, _ask(self._name, "get_by_id", id=row_id)["row"])

    def delete_all_rows(self):
        """Delete every row of the table (its columns stay)."""
        _ask(self._name, "delete_all_rows")

    def list_columns(self):
        """The columns: [{'name': 'when', 'type': 'datetime'}, ...]."""
        return _ask(self._name, "describe")["columns"]

    def __repr__(self):
        return f"<Table {self._name}>"


class _AppTables:
    """`app_tables.<name>`: this widget's tables, made in the editor's Data panel."""

    def __init__(self):
        self._known = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in self._known:
            answer = _channel.ask({"op": "tables_describe", "table": name})
            if not answer.get("ok"):
                raise AttributeError(answer.get("message") or f"No such app table: {name!r}")
            self._known[name] = Table(name)
        return self._known[name]

    def __getitem__(self, name):
        try:
            return getattr(self, name)
        except AttributeError as error:
            raise KeyError(str(error)) from None


app_tables = _AppTables()
