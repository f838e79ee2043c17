"""Calls from a GUI widget's frame to its server functions: who may call, and what they send."""

import json
import math
import re
from dataclasses import dataclass

from flask import current_app

from ..extensions import db
from ..models import User, Widget, WidgetSession

# Matched with fullmatch: "$" would also accept a trailing newline ("echo\n").
# A registered name: identifiers joined by dots, as Anvil allows (`@anvil.server.callable(
# "Server_Batching.batch_call_executor")` is how dependency apps name theirs); 100 characters.
FUNCTION_NAME_RE = re.compile(r"(?=.{1,100}\Z)[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class CallRequestError(ValueError):
    """The call's function name or body is not something a server function can be called with.

    `status` is the HTTP answer: 400, or 413 for arguments over the size or depth limits."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status
        self.error_type = "TooLarge" if status == 413 else "BadRequest"


class CallerGoneError(Exception):
    """The viewer the token was issued to no longer exists or was disabled."""


def widget_for_call(widget_id: str, actor_id: int | None) -> Widget | None:
    """The GUI widget `actor_id` may call now (the token was checked), or None.

    Visibility is checked again: a widget made private after the page loaded stops
    answering everyone but its owner.
    """
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    if actor_id is not None and (actor is None or actor.is_disabled):
        raise CallerGoneError("Your session has ended. Reload the page.")
    widget = db.session.get(Widget, widget_id)
    if widget is None or not widget.is_gui or not widget.is_visible_to(actor):
        return None
    return widget


@dataclass(frozen=True)
class CallLimits:
    """What one call may send: its JSON body's size (which includes every keyword name) and
    how deeply lists and objects nest in it."""

    max_bytes: int
    max_depth: int


def anonymous_call_refused(widget: Widget, actor_id: int | None, session_id: str | None) -> bool:
    """True when the widget's owner switched off "visitors who never logged in may call
    functions" and this caller has no site log-in and no log-in to this widget (made by its
    code in this visitor session)."""
    if widget.users_anonymous_calls or actor_id is not None:
        return False
    if session_id:
        login_row = db.session.scalar(
            db.select(WidgetSession.login_row_id).filter_by(
                widget_id=widget.id, session_id=session_id, login_set=True, login_actor_id=None
            )
        )
        if login_row is not None:
            return False
    return True


def call_limits() -> CallLimits:
    """The app's limits (CALL_ARGS_MAX_BYTES, CALL_ARGS_MAX_DEPTH)."""
    return CallLimits(
        current_app.config["CALL_ARGS_MAX_BYTES"], current_app.config["CALL_ARGS_MAX_DEPTH"]
    )


def json_nesting_depth(text: str) -> int:
    """How deeply `[`/`{` nest in the JSON `text` (brackets inside strings don't count).

    Measured before parsing: `json.loads` recurses once per level, and a body nested deeper
    than the interpreter's recursion limit would end in RecursionError, not a parse error.
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    raise CallRequestError(f"{name} is not a JSON number: send only finite numbers.")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise CallRequestError(f"{text[:40]} is too large a number: send only finite numbers.")
    return number


def parse_call(fn_name: str, body: bytes, limits: CallLimits) -> tuple[list, dict]:
    """`(args, kwargs)` from a call's JSON body `{"args": [...], "kwargs": {...}}`.

    Raises CallRequestError (a 400, or a 413 for a body over `limits`) for anything else:
    not JSON, NaN or infinite numbers, integers too long for Python to parse.
    """
    if not FUNCTION_NAME_RE.fullmatch(fn_name):
        raise CallRequestError(f"{fn_name[:100]!r} is not a function name.")
    if len(body) > limits.max_bytes:
        raise CallRequestError(
            f"The call's arguments are {len(body):,} bytes; a call may send at most "
            f"{limits.max_bytes:,} bytes (arguments and keyword names together).",
            status=413,
        )
    try:
        text = body.decode("utf-8") if body else "{}"
    except UnicodeDecodeError:
        raise CallRequestError("The call's body must be JSON (UTF-8).") from None
    if json_nesting_depth(text) > limits.max_depth:
        raise CallRequestError(
            f"The call's arguments nest more than {limits.max_depth} lists or objects deep.",
            status=413,
        )
    try:
        payload = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError:
        raise CallRequestError("The call's body must be JSON.") from None
    except ValueError as error:
        if isinstance(error, CallRequestError):
            raise
        # int() refuses more than sys.get_int_max_str_digits() digits (4,300 by default).
        raise CallRequestError("The call's body holds a number too long to use.") from None
    if not isinstance(payload, dict):
        raise CallRequestError('The call\'s body must be {"args": [...], "kwargs": {...}}.')
    args, kwargs = payload.get("args", []), payload.get("kwargs", {})
    if not isinstance(args, list):
        raise CallRequestError('"args" must be a list.')
    if not isinstance(kwargs, dict):
        raise CallRequestError('"kwargs" must be an object.')
    return args, kwargs


def error_answer(error_type: str, message: str) -> dict:
    """A failed call's answer, in the same shape as a server function's error."""
    return {"ok": False, "error": {"type": error_type, "message": message}}
