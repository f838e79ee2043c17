"""Rows, searches and background tasks that server functions (or `app_tables`) gave client code.

Each carries a `ref` the site signed for this widget and this page (pyspace/gui/references.py):
passing a row back to a server function sends the ref, and the function gets the same live row.
A row can be changed here only where its table's owner made it editable from client code (the
site checks, by the ref); a search fetches further pages as it is iterated; a task answers
with its progress each time it is asked.
"""

import datetime

from . import _media, _serialise


def _server():
    # anvil.server needs the frame's JavaScript channel: imported when a question is asked, so
    # `import anvil.tables` works on its own.
    from . import server

    return server


class RowReadOnlyError(Exception):
    """This row's table can't be changed from client code (the owner gave it search access, or
    none): change it in a server function."""


def ask_tables(body: dict, table_errors: dict):
    """The site's answer to a data table question (gui/client_tables.py), decoded; a refusal
    raises anvil.tables' error of that name, or anvil.server's (PermissionDenied...)."""
    answer = _server()._ask("-/tables", body)
    if answer.get("ok"):
        return _serialise.decode(answer.get("result"))
    error = answer.get("error") or {}
    kind = table_errors.get(str(error.get("type")))
    if kind is not None:
        raise kind(str(error.get("message") or ""))
    raise _server()._error(error)


def _ask_tables(body: dict):
    from .tables import _ask

    return _ask(body)


class Row:
    """A data table row: `row['col']`, `row.get('col')`, `dict(row)`; `row['col'] = v`,
    `update(...)` and `delete()` where the table is editable from client code. A linked row
    is read when first used."""

    def __init__(self, data: dict, decode_nested):
        self._table = str(data.get("table"))
        self._id = data.get("id")
        self._ref = data.get("ref")
        values = data.get("values")
        self._values = (
            None
            if values is None
            else {name: decode_nested(value) for name, value in values.items()}
        )

    def _all(self) -> dict:
        if self._values is None:
            self._values = _ask_tables({"op": "row", "ref": self._ref})._values
        return self._values

    def _exists(self) -> bool:
        try:
            self._values = _ask_tables({"op": "row", "ref": self._ref})._values
        except Exception as error:
            if type(error).__name__ == "RowDeleted":
                return False
            raise
        return True

    def get_id(self):
        return self._id

    def __getitem__(self, column):
        values = self._all()
        if column not in values:
            raise KeyError(f"Table {self._table!r} has no column {column!r}")
        return values[column]

    def get(self, column, default=None):
        value = self._all().get(column)
        return default if value is None else value

    def __contains__(self, column):
        return column in self._all()

    def keys(self):
        return list(self._all())

    def items(self):
        return list(self._all().items())

    def __iter__(self):
        return iter(self._all().items())

    def _write(self, body: dict):
        try:
            return _ask_tables(dict(body, ref=self._ref))
        except _server().PermissionDenied as error:
            raise _read_only_denied()(str(error)) from None

    def update(self, *args, **values):
        """Change some of the row's values (Anvil's `row.update(dict)` / `update(col=v)`)."""
        values = dict(dict(*args), **values)
        from .tables import _encode

        self._values = self._write({"op": "update_row", "values": _encode(values)})._values

    def __setitem__(self, column, value):
        self.update({column: value})

    def delete(self):
        """Delete the row from its table."""
        self._write({"op": "delete_row"})
        self._values = {}

    def __eq__(self, other):
        return isinstance(other, Row) and (self._table, self._id) == (other._table, other._id)

    def __hash__(self):
        return hash((self._table, self._id))

    def __repr__(self):
        return f"<Row {self._table}[{self._id}]>"


def _read_only_denied() -> type:
    # Refused writes are anvil.server.PermissionDenied, as in Anvil, and also RowReadOnlyError
    # (PermissionDenied alone under MicroPython, which can't mix two exception classes).
    server = _server()
    return server._exception_class("PermissionDenied", (server.PermissionDenied, RowReadOnlyError))


def _encode_row(row: Row, encode_nested) -> dict:
    return {_serialise.TAG: "row", "table": row._table, "id": row._id, "ref": row._ref}


class SearchIterator:
    """The rows a search matched: the first page came with it, the rest are fetched lazily."""

    def __init__(self, data: dict, decode_nested):
        self._table = str(data.get("table"))
        self._ref = data.get("ref")
        self._rows = [decode_nested(row) for row in data.get("rows", [])]
        self._more = bool(data.get("more"))
        self._length = None if self._more else len(self._rows)
        # A search client code made itself (app_tables) pages through the tables route.
        self._client = bool(data.get("client"))

    def _fetch_more(self) -> None:
        if self._client:
            page = _ask_tables({"op": "page", "ref": self._ref, "offset": len(self._rows)})
            rows, more = page["rows"], page["more"]
        else:
            answer = _server()._ask("-/rows", {"ref": self._ref, "offset": len(self._rows)})
            if not answer.get("ok"):
                raise _server()._error(answer.get("error") or {})
            rows, more = [_serialise.decode(row) for row in answer["rows"]], answer.get("more")
        self._rows += rows
        self._more = bool(more) and bool(rows)

    def __iter__(self):
        index = 0
        while True:
            while index < len(self._rows):
                yield self._rows[index]
                index += 1
            if not self._more:
                return
            self._fetch_more()

    def __len__(self):
        if self._length is None and self._client:
            self._length = int(_ask_tables({"op": "count", "ref": self._ref}))
        if self._length is None:
            answer = _server()._ask("-/rows", {"ref": self._ref, "count": True})
            if not answer.get("ok"):
                raise _server()._error(answer.get("error") or {})
            self._length = int(answer["count"])
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice) or index < 0:
            return list(self)[index]
        while index >= len(self._rows) and self._more:
            self._fetch_more()
        return self._rows[index]

    def __bool__(self):
        return bool(self._rows) or self._more

    def __repr__(self):
        return f"<SearchIterator over {self._table}>"


def _encode_search(search: SearchIterator, encode_nested) -> dict:
    return {_serialise.TAG: "search", "table": search._table, "ref": search._ref}


class Task:
    """A background task a server function launched and returned: its progress, asked afresh
    each time (Anvil's client-side Task methods)."""

    def __init__(self, data: dict, decode_nested):
        self._id = str(data.get("id"))
        self._name = data.get("name")
        self._ref = data.get("ref")

    def _info(self) -> dict:
        answer = _server()._ask("-/task", {"ref": self._ref})
        if not answer.get("ok"):
            raise _server()._error(answer.get("error") or {}, _server().BackgroundTaskError)
        return answer["task"]

    def get_id(self) -> str:
        return self._id

    def get_task_name(self):
        return self._name

    def get_state(self) -> dict:
        """The task's `anvil.server.task_state`, as last sent by the task."""
        return _serialise.decode(self._info().get("state")) or {}

    def get_termination_status(self):
        """None while running; then "completed", "failed", "killed" or "missing"."""
        return self._info()["termination_status"]

    def is_running(self) -> bool:
        return self.get_termination_status() is None

    def is_completed(self) -> bool:
        """False while running, True when it completed; raises the task's error if it failed."""
        info = self._info()
        if info["termination_status"] is None:
            return False
        self._raise_if_failed(info)
        return True

    def get_error(self):
        """None unless the task failed; then raises the task's error, as Anvil does."""
        self._raise_if_failed(self._info())

    def get_return_value(self):
        """What the task returned (None until it completed); raises its error if it failed."""
        info = self._info()
        self._raise_if_failed(info)
        return _serialise.decode(info.get("return_value"))

    def get_start_time(self):
        started = self._info().get("started_at")
        return datetime.datetime.fromisoformat(started) if started else None

    def kill(self):
        raise RuntimeError(
            "A background task can only be killed from server code: call a server function "
            "that calls task.kill()."
        )

    @staticmethod
    def _raise_if_failed(info: dict) -> None:
        status = info["termination_status"]
        if status in (None, "completed"):
            return
        error = info.get("error") or {}
        if status in ("killed", "missing"):
            message = error.get("message") or f"The background task was {status}."
            raise _server().BackgroundTaskKilled(message)
        raise _server()._error(error, _server().BackgroundTaskError)

    def __repr__(self):
        return f"<Task {self._id} {self._name!r}>"


def _encode_task(task: Task, encode_nested) -> dict:
    return {_serialise.TAG: "task", "id": task._id, "ref": task._ref}


def _object_url(media) -> str:
    import _pyspace_frame
    from pyodide.ffi import to_js

    return _pyspace_frame.mediaUrl(to_js(media.get_bytes()), media.content_type)


_serialise.register(Row, "row", _encode_row, Row)
_serialise.register(SearchIterator, "search", _encode_search, SearchIterator)
_serialise.register(Task, "task", _encode_task, Task)
_media._ObjectURLs.make = _object_url
