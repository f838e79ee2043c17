"""GUI widget views: the sandboxed frame document, and the route its server calls go to."""

from flask import abort, current_app, jsonify, make_response, render_template, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .. import extraction
from ..access import visible_widget_or_404
from ..extensions import csrf, limiter
from ..models import Widget
from ..runs.execution import call_and_record
from ..sandbox.results import REFUSAL_STATUS
from ..static_urls import IMMUTABLE
from . import bp
from .call_tokens import (
    CallTokenError,
    actor_for_call_token,
    issue_call_token,
    visitor_for_call_token,
)
from .calls import (
    CallerGoneError,
    CallRequestError,
    anonymous_call_refused,
    call_limits,
    error_answer,
    parse_call,
    widget_for_call,
)
from .client_tables import answer_table_question
from .frame_boot import (
    CALL_TOKEN_HEADER,
    client_runtime,
    frame_boot_config,
)
from .frame_policy import (
    CROSS_ORIGIN_STATIC_PREFIXES,
    frame_content_security_policy,
)
from .references import ValueReferenceError, resolved_from_frame, signed_for_frame
from .snapshot import SNAPSHOT_PREFIX
from .values import rows_page, task_answer, value_route_request
from .visitors import visitor_session_id


@bp.get("/widgets/<widget_id>/frame")
def frame(widget_id: str):
    """The document inside a GUI widget's sandboxed iframe: its HTML, and a boot script that
    starts Pyodide and runs its client code. Carries a call token instead of any cookie access."""
    widget = visible_widget_or_404(widget_id)
    if not widget.is_gui:
        abort(404)
    viewer = current_user if current_user.is_authenticated else None
    boot = frame_boot_config(
        widget,
        issue_call_token(widget.id, viewer.id if viewer else None, visitor_session_id(viewer)),
        viewer.username if viewer else None,
        viewer.email if viewer else None,
    )
    response = make_response(render_template("gui/frame.html", widget=widget, boot=boot))
    response.headers["Content-Security-Policy"] = frame_content_security_policy(
        request.host_url, widget.id
    )
    # The document holds a token issued to this viewer: never cache it or share it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _json_error(status: int, error_type: str, message: str):
    return jsonify(error_answer(error_type, message)), status


# Exempt from CSRF on purpose: this route never reads the session cookie — the caller is whoever
# the signed call token (header) was issued to, for this one widget. With no cookie doing the
# authorizing there is no ambient credential for another site to ride on, which is the attack the
# CSRF token prevents; the frame (an opaque origin) could not read a CSRF token anyway.
def _caller_key() -> str:
    """Rate-limit GUI calls per logged-in viewer (a class behind one school address shares an IP)
    and per address for anonymous viewers and anything without a valid token."""
    try:
        actor_id = actor_for_call_token(
            request.headers.get(CALL_TOKEN_HEADER, ""),
            (request.view_args or {}).get("widget_id", ""),
        )
    except CallTokenError:
        actor_id = None
    return f"viewer:{actor_id}" if actor_id else f"address:{get_remote_address()}"


def _not_callable(widget: Widget | None, actor_id: int | None, visitor: str | None):
    """The error answer for a call to a widget that is gone, or that the owner closed to
    visitors who never logged in (answered as require_user=True answers: client code catches
    anvil.users.AuthenticationFailed); None when the call may go ahead."""
    if widget is None:
        return _json_error(404, "NotFound", "This widget does not exist, or is no longer shared.")
    if anonymous_call_refused(widget, actor_id, visitor):
        return _json_error(
            403, "AuthenticationFailed", "You must be logged in to call this server function."
        )
    return None


@bp.post("/widgets/<widget_id>/call/<fn_name>")
@csrf.exempt
@limiter.limit("60 per minute", key_func=_caller_key)
def call(widget_id: str, fn_name: str):
    """Call a server function of this widget for its frame: `{"args": [...], "kwargs": {...}}`
    in, `{"ok": true, "result": ...}` or `{"ok": false, "error": {"type", "message"}}` out."""
    try:
        actor_id = actor_for_call_token(request.headers.get(CALL_TOKEN_HEADER, ""), widget_id)
        widget = widget_for_call(widget_id, actor_id)
    except (CallTokenError, CallerGoneError) as error:
        return _json_error(401, "CallTokenError", str(error))
    call_token = request.headers.get(CALL_TOKEN_HEADER, "")
    visitor = visitor_for_call_token(call_token)
    not_callable = _not_callable(widget, actor_id, visitor)
    if widget is None or not_callable:
        return not_callable
    try:
        args, kwargs = parse_call(fn_name, request.get_data(cache=False), call_limits())
        # Rows, searches and tasks sent back must be ones this page was given.
        args = resolved_from_frame(args, widget_id, call_token)
        kwargs = resolved_from_frame(kwargs, widget_id, call_token)
    except CallRequestError as error:
        return _json_error(error.status, error.error_type, str(error))
    except ValueReferenceError as error:
        return _json_error(400, "SerializationError", str(error))
    caller = extraction.caller_key(actor_id)
    refused = extraction.refusal(widget, caller, actor_id)
    if refused:
        return _json_error(429, "TooManyHiddenResults", refused)
    # The runner runs the server code in a fresh sandbox; every secret value it read is masked
    # for the owner, and any answer that held one is withheld whole from everyone else. The
    # call is recorded in the run history (and runs on a worker with RUNS_ON=queue).
    result = call_and_record(widget, fn_name, args, kwargs, actor_id, session_id=visitor)
    if result.withheld_from_call():
        extraction.count_withheld(widget, caller, actor_id)
    answer = result.as_call_result()
    if answer["ok"]:
        answer["result"] = signed_for_frame(answer["result"], widget_id, call_token)
    refused_status = not answer["ok"] and REFUSAL_STATUS.get(answer["error"]["type"])
    return jsonify(answer), refused_status or 200


@bp.post("/widgets/<widget_id>/call/-/rows")
@csrf.exempt
@limiter.limit("300 per minute", key_func=_caller_key)
def rows(widget_id: str):
    """The next page of a search a server function returned to this frame (`{"ref", "offset"}`
    in, `{"ok": true, "rows": [...], "more": bool}` out), or its length (`{"ref", "count":
    true}`). Authorized like a call: the token, and a `ref` this page was given."""
    asked = value_route_request(widget_id, request)
    if not isinstance(asked, tuple):
        return asked
    widget, actor_id, body = asked
    if refused := extraction.refusal(widget, extraction.caller_key(actor_id), actor_id):
        return _json_error(429, "TooManyHiddenResults", refused)
    answer, status = rows_page(widget, actor_id, body, request.headers.get(CALL_TOKEN_HEADER, ""))
    return jsonify(answer), status


@bp.post("/widgets/<widget_id>/call/-/task")
@csrf.exempt
@limiter.limit("300 per minute", key_func=_caller_key)
def task(widget_id: str):
    """A background task's progress for client code's `Task` (`{"ref"}` in): its state,
    termination status, error and return value, withheld as any result would be."""
    asked = value_route_request(widget_id, request)
    if not isinstance(asked, tuple):
        return asked
    widget, actor_id, body = asked
    answer, status = task_answer(widget, actor_id, body, request.headers.get(CALL_TOKEN_HEADER, ""))
    return jsonify(answer), status


@bp.post("/widgets/<widget_id>/call/-/tables")
@csrf.exempt
@limiter.limit("120 per minute", key_func=_caller_key)
def tables(widget_id: str):
    """Client code's own data table questions (`{"op": "search", "table", ...}` in, `{"ok",
    "result"}` or `{"ok": false, "error"}` out), for tables the owner opened to client code.
    Authorized like a call: the token names the widget and viewer; each table's access is
    checked here, on every question."""
    asked = value_route_request(widget_id, request, call_limits().max_bytes)
    if not isinstance(asked, tuple):
        return asked
    widget, actor_id, body = asked
    answer, status = answer_table_question(
        widget, actor_id, body, request.headers.get(CALL_TOKEN_HEADER, "")
    )
    return jsonify(answer), status


@bp.after_request
def allow_frame_calls(response):
    """Let the opaque-origin frame (Origin: null) read call answers. Credentials are never
    allowed, so no cookie-bearing request of another origin can read anything here."""
    if request.endpoint in ("gui.call", "gui.rows", "gui.task", "gui.tables"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {CALL_TOKEN_HEADER}"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


@bp.get("/gui/runtime-<version>.json")
def client_runtime_bundle(version: str):
    """The client `anvil` runtime's files in one JSON document, which the page embedding GUI
    frames downloads and hands to them (static/js/gui-host.js): as sources, or compiled for
    MicroPython frames. Public, and named by the hash of its bytes: cached for good. Another
    version (a page from before an upgrade) is gone, and its frames fetch the files one by one
    instead."""
    runtime = client_runtime()
    if version != runtime.version:
        runtime = client_runtime(micropython=True)
        if version != runtime.version:
            abort(404)
    response = current_app.response_class(runtime.body, mimetype="application/json")
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.after_app_request
def share_frame_static_files(response):
    """The frame fetches its script, Pyodide and the client runtime in CORS mode (module imports,
    fetch()), as an opaque origin: these public files must say any origin may read them."""
    if request.endpoint == "static" and request.path.startswith(CROSS_ORIGIN_STATIC_PREFIXES):
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.path.startswith(SNAPSHOT_PREFIX):
            # Stored gzipped, named by the hash of what it was made from: never changes.
            response.headers["Content-Type"] = "application/octet-stream"
            response.headers["Content-Encoding"] = "gzip"
            response.headers["Cache-Control"] = IMMUTABLE
        # The rest are cached for good when asked for by their version (static_urls.py), and
        # revalidated every time otherwise (Flask's no-cache): an unversioned URL must never
        # serve a stale Pyodide next to a fresh one after an upgrade.
    return response
