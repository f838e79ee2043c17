"""anvil.tables in client code, as in Anvil: the rows and searches server functions return, and
`app_tables` for the tables the widget's owner opened to client code in the Data panel
("Form code can search this table" / "can search and edit this table").

    from anvil.tables import app_tables
    import anvil.tables.query as q
    for task in app_tables.tasks.search(done=False):
        print(task["title"])
    app_tables.tasks.add_row(title="Walk the dog", done=False)

Every operation asks the site, which checks the table's client access each time: a table
not opened to client code raises anvil.server.PermissionDenied ("Cannot read from table
'tasks' from client code."), and writing to a search-only table does too.
"""

from .. import _serialise
from .._client_values import Row, RowReadOnlyError, SearchIterator
from . import query as _q

__all__ = [
    "NoSuchColumnError",
    "QuotaExceededError",
    "Row",
    "RowDeleted",
    "RowReadOnlyError",
    "SearchIterator",
    "TableError",
    "app_tables",
    "order_by",
]


class TableError(Exception):
    """A table operation failed (Anvil's name)."""


class RowDeleted(TableError):  # noqa: N818 - Anvil's name
    """The row was deleted and can't be used any more."""


class NoSuchColumnError(TableError):
    """The table has no column of that name."""


class QuotaExceededError(TableError):
    """The widget's tables are full (rows or bytes)."""


_ERRORS = {
    cls.__name__: cls for cls in (TableError, RowDeleted, NoSuchColumnError, QuotaExceededError)
}


def _ask(body: dict):
    """Ask the site's tables route; the result, or the error client code raises."""
    from .. import _client_values

    return _client_values.ask_tables(body, _ERRORS)


def _encode(value):
    """A search or row value as client code sends it: queries as their description, every
    other value as a portable value (a row by the reference the site signed)."""
    if hasattr(value, "_pyspace_query"):
        return value._pyspace_query()
    return _serialise.encode(value, "value", "A data table was given")


def _encode_searched(value):
    """A value searched for: a plain dict (a simple object) goes as an `eq` query, so that
    one with an "op" key isn't read as a query."""
    if isinstance(value, dict):
        return {"op": "eq", "value": _encode(value)}
    return _encode(value)


class order_by:  # noqa: N801 - Anvil's name
    """Order a search by a column: `search(tables.order_by('when', ascending=False))`."""

    def __init__(self, column_name, ascending=True):
        if not isinstance(column_name, str):
            raise TypeError("order_by takes a column name, like order_by('when')")
        self.column_name = column_name
        self.ascending = bool(ascending)

    def __repr__(self):
        return f"order_by({self.column_name!r}, ascending={self.ascending})"


def _search_arguments(table, args, filters):
    wire = [{"column": name, "query": _encode(value)} for name, value in filters.items()]
    order = []
    for arg in args:
        if isinstance(arg, order_by):
            order.append({"column": arg.column_name, "ascending": arg.ascending})
        elif isinstance(arg, _q._Of):
            wire.append({"query": _encode(arg)})
        else:
            raise TableError(
                f"Table {table!r}: search takes order_by(...), q.all_of/any_of/none_of/not_(...) "
                f"and column=value keywords in client code, not {arg!r}"
            )
    return {"filters": wire, "order": order}


class Table:
    """One of the widget's tables, as client code may use it: `app_tables.tasks`."""

    def __init__(self, name):
        self._name = name

    def search(self, *args, **filters):
        """Rows matching column=value (or column=q.…) keywords, in order_by(...) order; the
        first page comes at once, later ones as the search is iterated."""
        # dict(...) rather than {**...}: MicroPython has no unpacking in a dict display.
        body = dict(_search_arguments(self._name, args, filters), op="search", table=self._name)
        return _ask(body)

    def get(self, *args, **filters):
        """The one row matching the keywords, None if none does; TableError if several do."""
        body = dict(_search_arguments(self._name, args, filters), op="get", table=self._name)
        return _ask(body)

    def get_by_id(self, row_id, *args):
        """The row whose `get_id()` is `row_id`, or None if the table has no such row."""
        return _ask({"op": "get_by_id", "table": self._name, "id": str(row_id)})

    def add_row(self, **values):
        """Add a row (the table must be editable from client code); the new row."""
        body = {"op": "add_row", "table": self._name, "values": _encode(values)}
        return _ask(body)

    def list_columns(self):
        """The columns: [{'name': 'when', 'type': 'datetime'}, ...], with Anvil's type names."""
        return [dict(column) for column in _ask({"op": "list_columns", "table": self._name})]

    def has_row(self, row):
        """Whether `row` is a row of this table."""
        return isinstance(row, Row) and row._table == self._name and row._exists()

    __contains__ = has_row

    def __repr__(self):
        return f"<anvil.tables.Table {self._name}>"


class _AppTables:
    """`app_tables.<name>`: the widget's tables (usable where the owner opened them to client
    code; the site refuses the rest)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Table(name)

    def __getitem__(self, name):
        return Table(name)


app_tables = _AppTables()
