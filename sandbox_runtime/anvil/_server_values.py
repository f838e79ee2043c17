"""How server code's rows, searches and tasks cross as portable values (see `_serialise`).

- A `Row` is sent with its table, id and values. One that arrives is fetched afresh from the
  widget's own table by id: the same live row (the web app answers for this widget's tables
  only, and checks the reference a browser sends back before it gets here).
- A `SearchIterator` is sent with its query and its first page of rows; the browser fetches
  later pages through the web app. One that arrives is the same lazy search again.
- A `Task` is sent by id; one that arrives is `get_background_task(id)`.
"""

from . import _serialise, server, tables

# Rows sent inline with a search; the rest are fetched a page at a time as the client iterates.
FIRST_PAGE_ROWS = tables.PAGE_SIZE


def _table_name(row_or_search) -> str:
    return row_or_search._table._name


def encode_row(row, encode_nested) -> dict:
    return {
        _serialise.TAG: "row",
        "table": _table_name(row),
        "id": row.get_id(),
        "values": {name: encode_nested(value, f"[{name!r}]") for name, value in row.items()},
    }


def decode_row(data: dict, decode_nested):
    return tables.app_tables[str(data["table"])].get_by_id(data["id"])


def _query(search) -> dict:
    # The search's own description (filters, order...) as the tables module keeps it.
    return {"search": search._search, "start": search._start, "stop": search._stop}


def encode_search(search, encode_nested) -> dict:
    first = list(search[:FIRST_PAGE_ROWS])
    more = len(first) == FIRST_PAGE_ROWS and len(search) > FIRST_PAGE_ROWS
    return {
        _serialise.TAG: "search",
        "table": _table_name(search),
        "query": _query(search),
        "rows": [encode_nested(row, f"[{index}]") for index, row in enumerate(first)],
        "more": more,
    }


def decode_search(data: dict, decode_nested):
    query = data["query"]
    table = tables.app_tables[str(data["table"])]
    start, stop, spec = int(query["start"] or 0), query["stop"], query["search"]
    return tables.SearchIterator(table, spec, start, stop)


def encode_task(task, encode_nested) -> dict:
    return {_serialise.TAG: "task", "id": task.get_id(), "name": task.get_task_name()}


def decode_task(data: dict, decode_nested):
    return server.get_background_task(str(data["id"]))


_serialise.register(tables.Row, "row", encode_row, decode_row)
_serialise.register(tables.SearchIterator, "search", encode_search, decode_search)
_serialise.register(server.Task, "task", encode_task, decode_task)
