"""What a GUI widget's frame asks about values a server function gave it: the next page of a
search, and a background task's progress. Each question carries the call token and a `ref`
(references.py) this page was given; the answer is the widget's own data only, read through the
same channel services a run uses, for a run context of this widget and this viewer."""

import json

from flask import Request, Response, current_app, jsonify

from .. import extraction
from ..models import Widget
from ..sandbox.redaction import WITHHELD
from ..sandbox.services import RunContext, services_for
from ..secrets.screening import widget_secrets_redactor
from .call_tokens import CallTokenError, actor_for_call_token
from .calls import CallerGoneError, error_answer, json_nesting_depth, widget_for_call
from .frame_boot import CALL_TOKEN_HEADER
from .references import TAG, ValueReferenceError, read_reference, signed_for_frame

# Rows per page a frame fetches while iterating a search.
ROWS_PAGE = 100
# A question is a ref and a number or two.
MAX_QUESTION_BYTES = 16 * 1024


def value_route_request(widget_id: str, request: Request, max_bytes: int = MAX_QUESTION_BYTES):
    """`(widget, actor_id, body)` for a frame's question of at most `max_bytes`, or the error
    response to send."""
    try:
        actor_id = actor_for_call_token(request.headers.get(CALL_TOKEN_HEADER, ""), widget_id)
        widget = widget_for_call(widget_id, actor_id)
    except (CallTokenError, CallerGoneError) as error:
        return _refusal(error_answer("CallTokenError", str(error)), 401)
    if widget is None:
        return _refusal(
            error_answer("NotFound", "This widget does not exist, or is no longer shared."), 404
        )
    data = request.get_data(cache=False)
    try:
        if len(data) > max_bytes:
            raise ValueError
        # Measured before parsing: json.loads recurses once per level of nesting.
        if json_nesting_depth(data.decode("utf-8")) > current_app.config["CALL_ARGS_MAX_DEPTH"]:
            raise ValueError
        body = json.loads(data or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return _refusal(
            error_answer("BadRequest", "The question must be a small JSON object."), 400
        )
    return widget, actor_id, body


def _refusal(answer: dict, status: int) -> Response:
    # A Response, not a (body, status) tuple: callers tell an answer from a refusal by its type.
    response = jsonify(answer)
    response.status_code = status
    return response


def _context(widget: Widget, actor_id: int | None) -> RunContext:
    return RunContext(
        widget_id=widget.id, actor_id=actor_id, viewer_is_owner=widget.owner_id == actor_id
    )


def _tagged_table_value(value):
    """A value as the tables channel writes it, as a portable value (tagged JSON)."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime":
            return {TAG: "datetime", "v": text}
        if tag == "$date":
            return {TAG: "date", "v": text}
    return value


def screened(widget: Widget, actor_id: int | None, answer: dict) -> dict:
    """`answer` (read from the widget's tables with no run, so no run's redaction set) checked
    against every secret value of the widget: masked for the owner; for anyone else withheld
    whole and counted against their extraction budget, as a run's output would be."""
    redactor = widget_secrets_redactor(widget.id)
    if not redactor.value_contains_secret(answer):
        return answer
    if widget.owner_id == actor_id:
        return redactor.value(answer)
    extraction.count_withheld(widget, extraction.caller_key(actor_id), actor_id)
    return error_answer("OutputHidden", WITHHELD)


def rows_page(widget: Widget, actor_id: int | None, body: dict, call_token: str):
    """`(answer, status)`: a page of the search `body["ref"]` names, or its length. Rows a
    later page holds were never seen by the run that made the search: screened here (the
    route refuses a caller past their extraction budget first)."""
    try:
        facts = read_reference(body.get("ref"), "search", widget.id, call_token)
        if (facts.get("query") or {}).get("client"):
            # Client code's own searches page through the tables route, which checks the
            # table's client access again (gui/client_tables.py).
            raise ValueReferenceError("This search pages through the tables route.")
    except ValueReferenceError as error:
        return error_answer("SerializationError", str(error)), 400
    query = facts.get("query") or {}
    start, stop = int(query.get("start") or 0), query.get("stop")
    # The search as the sandbox's SearchIterator describes it (filters, order, columns...).
    search = query.get("search") or {}
    request = {
        "table": facts.get("table"),
        "filters": search.get("filters"),
        "order": search.get("order"),
    }
    run = _context(widget, actor_id)
    if body.get("count"):
        return _search_length(request, run, start, stop)
    offset = body.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return error_answer("BadRequest", "offset must be a whole number of at least 0."), 400
    position = start + offset
    limit = ROWS_PAGE if stop is None else max(0, min(ROWS_PAGE, int(stop) - position))
    if limit == 0:
        return {"ok": True, "rows": [], "more": False}, 200
    answer = services_for(current_app)["tables_search"](
        {"op": "tables_search", **request, "offset": position, "limit": limit}, run
    )
    if not answer.get("ok"):
        return error_answer("TableError", str(answer.get("message"))), 200
    rows = [
        {
            TAG: "row",
            "table": facts.get("table"),
            "id": row["id"],
            "values": {name: _tagged_table_value(v) for name, v in row["values"].items()},
        }
        for row in answer["rows"]
    ]
    more = len(rows) == limit and (stop is None or position + limit < int(stop))
    page = screened(widget, actor_id, {"ok": True, "rows": rows, "more": more})
    if page["ok"]:
        page["rows"] = signed_for_frame(page["rows"], widget.id, call_token)
    return page, 200


def _search_length(request: dict, run: RunContext, start: int, stop):
    answer = services_for(current_app)["tables_count"]({"op": "tables_count", **request}, run)
    if not answer.get("ok"):
        return error_answer("TableError", str(answer.get("message"))), 200
    total = int(answer["count"])
    end = total if stop is None else min(total, int(stop))
    return {"ok": True, "count": max(0, end - start)}, 200


def task_answer(widget: Widget, actor_id: int | None, body: dict, call_token: str):
    """`(answer, status)`: the task `body["ref"]` names, as client code's Task sees it.

    Read through the tasks area's own channel service, for this viewer: to anyone but the
    owner, a task whose outcome held a secret value reads as failed with its outcome withheld
    whole, as it does to widget code."""
    try:
        facts = read_reference(body.get("ref"), "task", widget.id, call_token)
    except ValueReferenceError as error:
        return error_answer("SerializationError", str(error)), 400
    run = _context(widget, actor_id)
    answer = services_for(current_app)["get_task"]({"op": "get_task", "id": facts.get("id")}, run)
    if not answer.get("ok"):
        return error_answer("BackgroundTaskNotFound", str(answer.get("message"))), 200
    task = dict(answer["task"])
    task["state"] = signed_for_frame(task.get("state"), widget.id, call_token)
    task["return_value"] = signed_for_frame(task.get("return_value"), widget.id, call_token)
    return {"ok": True, "task": task}, 200
