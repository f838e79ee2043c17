"""Calls from a GUI widget's frame to its server functions: who may call, and what they send."""

import json
import re

from ..extensions import db
from ..models import User, Widget

FUNCTION_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
CALL_BODY_MAX_BYTES = 256 * 1024


class CallRequestError(ValueError):
    """The call's function name or body is not something a server function can be called with."""


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


def parse_call(fn_name: str, body: bytes) -> tuple[list, dict]:
    """`(args, kwargs)` from a call's JSON body `{"args": [...], "kwargs": {...}}`."""
    if not FUNCTION_NAME_RE.match(fn_name):
        raise CallRequestError(f"{fn_name[:100]!r} is not a function name.")
    if len(body) > CALL_BODY_MAX_BYTES:
        raise CallRequestError(
            f"The call's arguments are larger than {CALL_BODY_MAX_BYTES // 1024} KiB."
        )
    try:
        payload = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CallRequestError("The call's body must be JSON.") from None
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
