"""Client code's own use of data tables: Anvil's "Form code can search this table" and "can
search and edit this table", per table, set by the owner in the Data panel.

The frame asks `POST /widgets/<id>/call/-/tables` with its call token (which names the widget
and the viewer, nothing more) and a question: `{"op": "search", "table": "tasks", "filters":
[...]}`. What the frame may do is decided here, on the site, for every question and every
table it touches: the table's client access as stored now (`tables.schema.client_table`) —
never anything the frame says. Rows and searches leave with a `ref` signed for this widget and
page (references.py); a row or search sent back is only accepted with a genuine one, and its
table's access is checked again (a table closed to clients after the page loaded stops
answering at once).

A link cell to a table client code wasn't given reads as a row whose every use is refused with
Anvil's PermissionDenied: the site never sends its id or values. Every answer is checked for
the widget's secret values as any result shown to a visitor is: masked for the owner, withheld
whole (and counted against the visitor's extraction budget) for anyone else. Writes go through
the same channel services as widget code's, so the owner's storage budget applies.
"""

from collections.abc import Callable

from flask import current_app

from .. import extraction
from ..models import Widget
from ..sandbox.services import RunContext, services_for
from ..tables.schema import client_table
from .calls import error_answer
from .references import TAG, ValueReferenceError, read_reference, signed_for_frame
from .values import screened

# Rows sent with a search, and per page after it.
CLIENT_PAGE_ROWS = 100
PERMISSION_DENIED = "PermissionDenied"
# The channel's own tags for what JSON can't hold (tables/columns.py encode_wire).
_WIRE_TAGS = ("$row", "$datetime", "$date")


class ClientTableError(Exception):
    """A question refused: `error_type` is the Anvil exception client code raises."""

    def __init__(self, message: str, error_type: str = "TableError", status: int = 200):
        super().__init__(message)
        self.error_type = error_type
        self.status = status


def _denied(table: str, write: bool, row: bool = False) -> ClientTableError:
    # Anvil's wording (anvil-runtime, tables/v2/util.clj throw-permission-denied!). The same
    # answer whether or not a table of that name exists, so it tells a visitor nothing.
    verb = "write to" if write else "read from"
    return ClientTableError(
        f"Cannot {verb}{' row from' if row else ''} table {table!r} from client code.",
        PERMISSION_DENIED,
    )


class _Question:
    """One question from the frame, answered for `widget` and the viewer `actor_id`."""

    def __init__(self, widget: Widget, actor_id: int | None, call_token: str) -> None:
        self.widget = widget
        self.call_token = call_token
        self.run = RunContext(
            widget_id=widget.id, actor_id=actor_id, viewer_is_owner=widget.owner_id == actor_id
        )
        self._readable: dict[str, bool] = {}

    def table(self, name: object, write: bool = False, row: bool = False) -> str:
        """`name`, if client code may read (with `write`: change) that table now."""
        if not isinstance(name, str) or not name:
            raise ClientTableError("Tables are named with strings, like app_tables.tasks.")
        if client_table(self.widget.id, name, edit=write) is None:
            raise _denied(name, write, row)
        return name

    def readable(self, name: str) -> bool:
        if name not in self._readable:
            self._readable[name] = client_table(self.widget.id, name) is not None
        return self._readable[name]

    def service(self, op: str, **request) -> dict:
        """The tables area's answer to `op`, as widget code would get it, or ClientTableError."""
        answer = services_for(current_app)["tables_" + op](
            {"op": "tables_" + op, **request}, self.run
        )
        if not answer.get("ok"):
            raise ClientTableError(
                str(answer.get("message")), str(answer.get("error") or "TableError")
            )
        return answer

    def reference(self, value: object, kind: str) -> dict:
        try:
            return read_reference(value, kind, self.widget.id, self.call_token)
        except ValueReferenceError as error:
            raise ClientTableError(str(error), "SerializationError", 400) from None

    # What the frame sends, as the tables channel reads it.
    def wire(self, value):
        """A portable value from client code (tagged JSON) as the tables channel carries it; a
        row must come with a genuine ref, to a table client code may read."""
        if isinstance(value, list):
            return [self.wire(item) for item in value]
        if not isinstance(value, dict):
            return value
        kind = value.get(TAG)
        if kind is None:
            if any(key in _WIRE_TAGS for key in value):
                raise ClientTableError("Rows are given as rows, not as their ids.")
            return {str(key): self.wire(item) for key, item in value.items()}
        if kind in ("datetime", "date"):
            return {f"${kind}": value.get("v")}
        if kind == "row":
            facts = self.reference(value.get("ref"), "row")
            table = self.table(facts.get("table"), row=True)
            return {"$row": {"table": table, "id": facts.get("id")}}
        if kind == "dict" and isinstance(value.get("v"), dict):
            return {str(key): self.wire(item) for key, item in value["v"].items()}
        raise ClientTableError(
            f"A {kind} can't be stored in a data table from client code: "
            "pass it to a server function that stores it."
        )

    # What the frame gets, as portable values (tagged JSON) client code decodes.
    def portable(self, value):
        if isinstance(value, list):
            if value and all(self._is_link(item) for item in value):
                return [self._linked_row(item["$row"]) for item in value]
            return [self.portable(item) for item in value]
        if not isinstance(value, dict):
            return value
        if self._is_link(value):
            return self._linked_row(value["$row"])
        if len(value) == 1 and next(iter(value)) in ("$datetime", "$date"):
            ((tag, text),) = value.items()
            return {TAG: tag[1:], "v": text}
        plain = {str(key): self.portable(item) for key, item in value.items()}
        # A stored dict with a "$t" key of its own: its keys are data, not tags.
        return {TAG: "dict", "v": plain} if TAG in value else plain

    @staticmethod
    def _is_link(value) -> bool:
        return (
            isinstance(value, dict) and set(value) == {"$row"} and isinstance(value["$row"], dict)
        )

    def _linked_row(self, link: dict) -> dict:
        """A linked row, read when client code first uses it; one of a table client code
        wasn't given carries neither id nor values (using it is refused)."""
        table = str(link.get("table"))
        row_id = str(link.get("id")) if self.readable(table) else None
        return {TAG: "row", "table": table, "id": row_id}

    def row(self, table: str, wire_row: dict) -> dict:
        values = {name: self.portable(value) for name, value in wire_row["values"].items()}
        return {TAG: "row", "table": table, "id": wire_row["id"], "values": values}

    def page(self, table: str, query: dict, offset: int) -> tuple[list[dict], bool]:
        search = query.get("search") or {}
        rows = self.service(
            "search",
            table=table,
            filters=search.get("filters"),
            order=search.get("order"),
            offset=offset,
            limit=CLIENT_PAGE_ROWS,
        )["rows"]
        return [self.row(table, row) for row in rows], len(rows) == CLIENT_PAGE_ROWS


def _whole_number(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ClientTableError(f"{name} must be a whole number of at least 0.", "BadRequest", 400)
    return value


def _search(q: _Question, body: dict):
    table = q.table(body.get("table"))
    filters = q.wire(body.get("filters") or [])
    order = body.get("order") or []
    # As server code's SearchIterator describes a search, so a server function it is passed
    # to gets the same search; "client" marks one client code made, whose later pages come
    # through this route only (with the table's access checked again).
    spec = {"filters": filters, "order": order, "columns": None, "visible": None}
    query = {"search": {**spec, "page_size": CLIENT_PAGE_ROWS}, "start": 0, "stop": None}
    query["client"] = True
    rows, more = q.page(table, query, 0)
    search = {TAG: "search", "table": table, "query": query, "rows": rows, "more": more}
    return {**search, "client": True}


def _search_facts(q: _Question, body: dict) -> tuple[str, dict]:
    facts = q.reference(body.get("ref"), "search")
    query = facts.get("query") or {}
    if not query.get("client"):
        raise ClientTableError("This search came from a server function.", "BadRequest", 400)
    return q.table(facts.get("table")), query


def _next_page(q: _Question, body: dict):
    table, query = _search_facts(q, body)
    rows, more = q.page(table, query, _whole_number(body.get("offset"), "offset"))
    return {"rows": rows, "more": more}


def _count(q: _Question, body: dict):
    table, query = _search_facts(q, body)
    filters = (query.get("search") or {}).get("filters")
    return q.service("count", table=table, filters=filters)["count"]


def _get(q: _Question, body: dict):
    table = q.table(body.get("table"))
    rows = q.service("search", table=table, filters=q.wire(body.get("filters") or []), limit=2)
    if len(rows["rows"]) > 1:
        raise ClientTableError(f"More than one row of table {table!r} matched get().")
    return q.row(table, rows["rows"][0]) if rows["rows"] else None


def _get_by_id(q: _Question, body: dict):
    table = q.table(body.get("table"))
    row = q.service("get_by_id", table=table, id=str(body.get("id")))["row"]
    return None if row is None else q.row(table, row)


def _read_row(q: _Question, body: dict):
    """A row client code holds (a linked row, read when first used), read afresh."""
    facts = q.reference(body.get("ref"), "row")
    table = q.table(facts.get("table"), row=True)
    row = q.service("get_by_id", table=table, id=str(facts.get("id")))["row"]
    if row is None:
        raise ClientTableError(f"This row of table {table!r} has been deleted.", "RowDeleted")
    return q.row(table, row)


def _columns(q: _Question, body: dict):
    return q.service("describe", table=q.table(body.get("table")))["columns"]


def _add_row(q: _Question, body: dict):
    table = q.table(body.get("table"), write=True)
    values = q.wire(body.get("values") or {})
    return q.row(table, q.service("add_row", table=table, values=values)["row"])


def _update_row(q: _Question, body: dict):
    facts = q.reference(body.get("ref"), "row")
    table = q.table(facts.get("table"), write=True, row=True)
    values = q.wire(body.get("values") or {})
    row = q.service("update_row", table=table, id=str(facts.get("id")), values=values)["row"]
    return q.row(table, row)


def _delete_row(q: _Question, body: dict):
    facts = q.reference(body.get("ref"), "row")
    table = q.table(facts.get("table"), write=True, row=True)
    q.service("delete_row", table=table, id=str(facts.get("id")))


QUESTIONS: dict[str, Callable[[_Question, dict], object]] = {
    "search": _search,
    "page": _next_page,
    "count": _count,
    "get": _get,
    "get_by_id": _get_by_id,
    "row": _read_row,
    "list_columns": _columns,
    "add_row": _add_row,
    "update_row": _update_row,
    "delete_row": _delete_row,
}


def answer_table_question(
    widget: Widget, actor_id: int | None, body: dict, call_token: str
) -> tuple[dict, int]:
    """`(answer, status)` for client code's question `body` about the widget's tables:
    `{"ok": true, "result": ...}` or `{"ok": false, "error": {"type", "message"}}`."""
    caller = extraction.caller_key(actor_id)
    if refused := extraction.refusal(widget, caller, actor_id):
        return error_answer("TooManyHiddenResults", refused), 429
    handler = QUESTIONS.get(str(body.get("op")))
    if handler is None:
        return error_answer("BadRequest", "Unknown data table question."), 400
    q = _Question(widget, actor_id, call_token)
    try:
        result = handler(q, body)
    except ClientTableError as error:
        answer, status = error_answer(error.error_type, str(error)), error.status
    else:
        answer, status = {"ok": True, "result": result}, 200
    answer = screened(widget, actor_id, answer)
    if answer["ok"]:
        answer["result"] = signed_for_frame(answer["result"], widget.id, call_token)
    return answer, status
