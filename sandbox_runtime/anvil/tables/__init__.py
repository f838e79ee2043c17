"""Data tables: `from anvil.tables import app_tables`, as in Anvil.

    row = app_tables.readings.add_row(when=datetime.now(timezone.utc), temp=21.5)
    latest = app_tables.readings.search(tables.order_by("when", ascending=False))[:48]
    warm = app_tables.readings.search(temp=q.greater_than(20))

    @tables.in_transaction
    def bump():
        counter = app_tables.counters.get(name="visits")
        counter["count"] += 1

Every operation is a request over the run's channel; the web app answers it for this widget's
tables only, checking each value against its column's type. Searches are lazy: rows arrive a
page at a time as you iterate, `len()` asks for a count, and slicing narrows what is fetched.
A linked row (a link_single or link_multiple value) is fetched when one of its values is read.
A media value reads as an `anvil.Media` whose bytes are fetched when `get_bytes()` is called.
"""

import base64
import functools
import json
import random
import time
from datetime import date, datetime

from .. import _channel
from .._media import BlobMedia, Media
from . import query as _q

# Rows fetched per request while iterating over a search (q.page_size changes it).
PAGE_SIZE = 100
# How often in_transaction runs a function whose transaction conflicts, as in Anvil.
TRANSACTION_ATTEMPTS = 18


class TableError(Exception):
    """A table operation failed: no such table or column, a value of the wrong type, a quota."""


class RowDeleted(TableError):  # noqa: N818 - Anvil's name
    """The row was deleted (by this code, or by someone else) and can't be used any more."""


class NoSuchColumnError(TableError):
    """The table has no column of that name."""


class TransactionConflict(TableError):  # noqa: N818 - Anvil's name
    """Another transaction changed the same data first; this one was cancelled."""


class QuotaExceededError(TableError):
    """The widget's tables are full (rows or bytes)."""


_ERRORS = {
    cls.__name__: cls
    for cls in (TableError, RowDeleted, NoSuchColumnError, TransactionConflict, QuotaExceededError)
}


def _encode(value):
    if isinstance(value, (datetime, date)):
        tag = "$datetime" if isinstance(value, datetime) else "$date"
        return {tag: value.isoformat()}
    if isinstance(value, Row):
        return {"$row": {"table": value._table._name, "id": value._id}}
    if isinstance(value, Media):
        return _encode_media(value)
    if isinstance(value, (list, tuple)) and any(isinstance(item, Row) for item in value):
        return [_encode(item) for item in value]
    if hasattr(value, "_pyspace_query"):
        return value._pyspace_query()
    return value


def _encode_searched(value):
    """A value searched for: a plain dict (a simple object) goes as an `eq` query, so that
    one with an "op" key isn't read as a query."""
    if isinstance(value, dict):
        return {"op": "eq", "value": value}
    return _encode(value)


def _encode_media(media):
    """A Media for a media column: its bytes as base64, with its content type and name."""
    return {
        "$media": {
            "content_type": media.content_type,
            "name": media.name,
            "data": base64.b64encode(media.get_bytes()).decode("ascii"),
        }
    }


def _ask(table, op, **payload):
    message = {"op": "tables_" + op, "table": table, **payload}
    try:
        json.dumps(message)
    except (TypeError, ValueError) as error:
        raise TableError(f"Table {table!r}: a value can't be stored ({error})") from None
    answer = _channel.ask(message)
    if not answer.get("ok"):
        kind = _ERRORS.get(str(answer.get("error")), TableError)
        raise kind(answer.get("message") or f"Table {table!r} could not be used")
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

    def __eq__(self, other):
        return isinstance(other, order_by) and (other.column_name, other.ascending) == (
            self.column_name,
            self.ascending,
        )

    def __hash__(self):
        return hash((self.column_name, self.ascending))

    def __repr__(self):
        return f"order_by({self.column_name!r}, ascending={self.ascending})"


class Row:
    """One row of a data table: `row['temp']`, `row.update(temp=20)`, `row.delete()`.

    It behaves like a dict of its columns: `'temp' in row`, `row.get('temp', 0)`, `dict(row)`
    (iterating gives (column, value) pairs, as Anvil's rows do)."""

    def __init__(self, table, row_id, values=None, complete=True, visible=None):
        self._table = table
        self._id = row_id
        self._values = {}
        # False while only some columns (q.fetch_only) or none (a linked row) are loaded.
        self._complete = False
        # The columns a q.only_cols search lets this row show (None: all of them).
        self._visible = visible
        self._deleted = False
        if values is not None:
            self._load(values, complete)

    @classmethod
    def _from_wire(cls, table, wire, complete=True, visible=None):
        return cls(table, wire["id"], wire["values"], complete, visible)

    def _load(self, values, complete=True):
        for name, value in values.items():
            media = value.get("$media") if isinstance(value, dict) and len(value) == 1 else None
            if isinstance(media, dict):
                self._values[name] = TableMedia(self, name, media)
            else:
                self._values[name] = _decode(value)
        self._complete = self._complete or complete

    def _check(self):
        if self._deleted:
            raise RowDeleted(f"This row of table {self._table._name!r} has been deleted")

    def _fetch(self):
        self._check()
        wire = _ask(self._table._name, "get_by_id", id=self._id)["row"]
        if wire is None:
            self._deleted = True
            self._check()
        self._values = {}
        self._complete = False
        self._load(wire["values"])

    def _shown(self, column):
        if self._visible is not None and column not in self._visible:
            raise NoSuchColumnError(
                f"Column {column!r} of table {self._table._name!r} is not in this view"
            )

    def get_id(self):
        """The row's unique id (a string), for `get_by_id`."""
        return self._id

    def __getitem__(self, column):
        self._check()
        self._shown(column)
        if column not in self._values and not self._complete:
            self._fetch()
        if column not in self._values:
            raise NoSuchColumnError(f"Table {self._table._name!r} has no column {column!r}")
        return self._values[column]

    def __setitem__(self, column, value):
        self.update(**{column: value})

    def __contains__(self, column):
        self._check()
        if self._visible is not None and column not in self._visible:
            return False
        return column in self._values or column in self._table._column_names()

    def get(self, column, default=None):
        """`row[column]` if the table has that column (even when its value is None), else
        `default`, as a dict's get does."""
        present = column in self
        return self[column] if present else default

    def update(self, *mapping, **values):
        """Set several columns at once: `row.update(temp=20)` or `row.update({'temp': 20})`."""
        if len(mapping) > 1:
            raise TypeError("update takes at most one dict of values")
        changes = {**(dict(mapping[0]) if mapping else {}), **values}
        self._check()
        answer = _ask(self._table._name, "update_row", id=self._id, values=_values(changes))
        self._values = {}
        self._complete = False
        self._load(answer["row"]["values"])

    def delete(self):
        """Delete the row from its table; using the row afterwards raises RowDeleted."""
        self._check()
        _ask(self._table._name, "delete_row", id=self._id)
        self._deleted = True

    def refresh(self):
        """Read the row's values again from the database (they may have been changed)."""
        self._fetch()

    def _all(self):
        self._check()
        if not self._complete:
            self._fetch()
        if self._visible is None:
            return self._values
        return {name: value for name, value in self._values.items() if name in self._visible}

    def keys(self):
        return list(self._all())

    def values(self):
        return list(self._all().values())

    def items(self):
        return list(self._all().items())

    def __iter__(self):
        # Like Anvil's rows: iterating gives (column, value) pairs, so dict(row) works.
        return iter(list(self._all().items()))

    def __eq__(self, other):
        return isinstance(other, Row) and (other._table._name, other._id) == (
            self._table._name,
            self._id,
        )

    def __hash__(self):
        return hash((self._table._name, self._id))

    def __repr__(self):
        return f"<anvil.tables.Row {self._table._name}[{self._id}]>"


class TableMedia(Media):
    """A media value read from a table: content_type, name and length at once; its bytes are
    fetched from the table when `get_bytes()` is first called."""

    def __init__(self, row, column, meta):
        self._row = row
        self._column = column
        self.content_type = str(meta.get("content_type") or "application/octet-stream")
        self.name = meta.get("name")
        self._length = int(meta.get("length") or 0)
        self._bytes = None

    def get_bytes(self):
        if self._bytes is None:
            row = self._row
            answer = _ask(row._table._name, "get_media", id=row._id, column=self._column)
            media = answer.get("media") or {}
            self._bytes = base64.b64decode(media.get("data") or "")
        return self._bytes

    @property
    def length(self):
        return self._length if self._bytes is None else len(self._bytes)


def _decode(value):
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(text)
        if tag == "$date":
            return date.fromisoformat(text)
        if tag == "$row":
            return Row(Table._named(text["table"]), text["id"])
    return value


class SearchIterator:
    """The rows a search matches, fetched lazily a page at a time."""

    def __init__(self, table, search, start=0, stop=None):
        self._table = table
        self._search = search
        self._start = start
        self._stop = stop
        self._count = None

    def _fetch(self, offset, limit):
        answer = _ask(
            self._table._name,
            "search",
            filters=self._search["filters"],
            order=self._search["order"],
            columns=self._search["columns"],
            offset=offset,
            limit=limit,
        )
        complete = self._search["columns"] is None
        visible = self._search["visible"]
        return [Row._from_wire(self._table, wire, complete, visible) for wire in answer["rows"]]

    def __iter__(self):
        offset = self._start
        page = self._search["page_size"]
        while True:
            limit = page if self._stop is None else min(page, self._stop - offset)
            if limit <= 0:
                return
            rows = self._fetch(offset, limit)
            yield from rows
            if len(rows) < limit:
                return
            offset += len(rows)

    def _total(self):
        if self._count is None:
            answer = _ask(self._table._name, "count", filters=self._search["filters"])
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
            return SearchIterator(self._table, self._search, new_start, new_stop)
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

    def to_csv(self):
        """The rows as a CSV file (anvil.BlobMedia), columns as in the Data panel's export."""
        answer = _ask(
            self._table._name,
            "to_csv",
            filters=self._search["filters"],
            order=self._search["order"],
            offset=self._start,
            limit=self._stop - self._start if self._stop is not None else None,
        )
        return BlobMedia("text/csv", answer["csv"], name=f"{self._table._name}.csv")

    def __repr__(self):
        return f"<anvil.tables.SearchIterator over {self._table._name}>"


def _search_arguments(table, args, filters):
    """search()'s arguments as the request carries them."""
    wire = [{"column": name, "query": _encode_searched(value)} for name, value in filters.items()]
    order = []
    columns = visible = None
    page = PAGE_SIZE
    for arg in args:
        if isinstance(arg, order_by):
            order.append({"column": arg.column_name, "ascending": arg.ascending})
        elif isinstance(arg, _q._Of):
            wire.append({"query": _encode(arg)})
        elif isinstance(arg, _q.page_size):
            page = arg.rows
        elif isinstance(arg, _q.fetch_only):
            columns = sorted(arg.spec)
        elif isinstance(arg, _q.only_cols):
            visible = set(arg.cols)
            columns = list(arg.cols)
        else:
            raise TableError(
                f"Table {table!r}: search takes order_by(...), q.all_of/any_of/none_of/not_(...), "
                f"q.page_size, q.fetch_only, q.only_cols and column=value keywords, not {arg!r}"
            )
    return {
        "filters": wire,
        "order": order,
        "columns": columns,
        "visible": visible,
        "page_size": page,
    }


# Every Table object made, by name: rows and linked rows share them.
_TABLES: "dict[str, Table]" = {}


class Table:
    """One of this widget's tables: `app_tables.readings`."""

    def __init__(self, name, table_id=None, columns=None):
        self._name = name
        self._id = table_id
        self._columns = columns

    @classmethod
    def _named(cls, name):
        if name not in _TABLES:
            _TABLES[name] = Table(name)
        return _TABLES[name]

    def _describe(self):
        answer = _ask(self._name, "describe")
        self._id = answer["id"]
        self._columns = answer["columns"]
        return answer

    def _column_names(self):
        if self._columns is None:
            self._describe()
        return {column["name"] for column in self._columns}

    def get_id(self):
        """The table's id (a string), for `tables.get_table_by_id`."""
        if self._id is None:
            self._describe()
        return self._id

    def add_row(self, **values):
        """Add a row (column=value keywords; other columns are None) and return it."""
        answer = _ask(self._name, "add_row", values=_values(values))
        return Row._from_wire(self, answer["row"])

    def add_rows(self, rows):
        """Add several rows (a list of dicts), all or none; the new rows, in order."""
        rows = [dict(values) for values in rows]
        answer = _ask(self._name, "add_rows", rows=[_values(values) for values in rows])
        return [Row._from_wire(self, wire) for wire in answer["rows"]]

    def search(self, *args, **filters):
        """Rows matching column=value (or column=q.…) keywords and positional q.any_of(...)
        and friends, in order_by(...) order."""
        return SearchIterator(self, _search_arguments(self._name, args, filters))

    def get(self, *args, **filters):
        """The one row matching the keywords, None if none does; TableError if several do."""
        rows = SearchIterator(self, _search_arguments(self._name, args, filters))._fetch(0, 2)
        if len(rows) > 1:
            raise TableError(f"More than one row of table {self._name!r} matched get({filters!r})")
        return rows[0] if rows else None

    def get_by_id(self, row_id, *args):
        """The row whose `get_id()` is `row_id`, or None if the table has no such row."""
        wire = _ask(self._name, "get_by_id", id=row_id)["row"]
        return None if wire is None else Row._from_wire(self, wire)

    def has_row(self, row):
        """Whether `row` is a row of this table (and not deleted): also `row in table`."""
        if not isinstance(row, Row):
            raise TypeError("has_row takes a row, like app_tables.tasks.has_row(task)")
        if row._table._name != self._name:
            return False
        return _ask(self._name, "has_row", id=row._id)["found"]

    __contains__ = has_row

    def delete_all_rows(self):
        """Delete every row of the table (its columns stay)."""
        _ask(self._name, "delete_all_rows")

    def list_columns(self):
        """The columns: [{'name': 'when', 'type': 'datetime'}, ...], with Anvil's type names
        (string, number, bool, date, datetime, simpleObject, link_single, link_multiple)."""
        return [dict(column) for column in self._describe()["columns"]]

    def to_csv(self):
        """The whole table as a CSV file (anvil.BlobMedia)."""
        return self.search().to_csv()

    def __repr__(self):
        return f"<anvil.tables.Table {self._name}>"


class _AppTables:
    """`app_tables.<name>`: this widget's tables, made in the editor's Data panel.
    Iterating over it gives the tables' names."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in _TABLES or _TABLES[name]._id is None:
            answer = _channel.ask({"op": "tables_describe", "table": name})
            if not answer.get("ok"):
                raise AttributeError(answer.get("message") or f"No such app table: {name!r}")
            table = Table._named(name)
            table._id, table._columns = answer["id"], answer["columns"]
        return _TABLES[name]

    def __getitem__(self, name):
        try:
            return getattr(self, name)
        except AttributeError as error:
            raise KeyError(str(error)) from None

    def __iter__(self):
        return iter([table["name"] for table in _ask(None, "list")["tables"]])

    def __setattr__(self, name, value):
        raise AttributeError("app_tables is read-only")


app_tables = _AppTables()


def get_table_by_id(table_id):
    """The table whose `get_id()` is `table_id`, or None if this widget has no such table."""
    for table in _ask(None, "list")["tables"]:
        if table["id"] == str(table_id):
            return getattr(app_tables, table["name"])
    return None


class Transaction:
    """`with tables.Transaction() as txn:` — every table operation in the block happens at
    once or not at all. An exception in the block, or `txn.abort()`, cancels them all.
    A conflict with another transaction raises TransactionConflict (see in_transaction)."""

    def __init__(self, relaxed=False):
        self._aborting = False
        self._relaxed = bool(relaxed)

    def __enter__(self):
        _ask(None, "open_transaction", relaxed=self._relaxed)
        return self

    def __exit__(self, e_type, e_val, tb):
        _ask(None, "close_transaction", abort=self._aborting or e_val is not None)

    def abort(self):
        """Cancel everything the transaction has written, when the block ends."""
        self._aborting = True


def in_transaction(maybe_f=None, relaxed=None):
    """Decorator: run the function in a transaction, running it again (up to 18 times, after
    short random waits) if it conflicts with another, as Anvil does."""

    def wrap(f):
        @functools.wraps(f)
        def new_f(*args, **kwargs):
            attempt = 0
            while True:
                try:
                    with Transaction(relaxed=relaxed):
                        return f(*args, **kwargs)
                except TransactionConflict:
                    attempt += 1
                    if attempt == TRANSACTION_ATTEMPTS:
                        raise
                    time.sleep(random.random() * (1.5**attempt) * 0.05)

        return new_f

    return wrap if maybe_f is None else wrap(maybe_f)


class _Batch:
    """`with tables.batch_update:` / `with tables.batch_delete:`: as in Anvil, the changes in
    the block are made together (here: in one transaction)."""

    def __init__(self):
        self._open = []

    def __enter__(self):
        transaction = Transaction()
        transaction.__enter__()
        self._open.append(transaction)
        return self

    def __exit__(self, *exc):
        return self._open.pop().__exit__(*exc)


batch_update = _Batch()
batch_delete = _Batch()
batch = _Batch()
