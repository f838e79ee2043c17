"""References to rows, searches and tasks handed to a GUI widget's frame, and taken back.

Server functions return portable values as tagged JSON (sandbox_runtime/anvil/_serialise.py);
the site passes them through without decoding them, except for what names something stored:
a row (`{"$t": "row", "table", "id", ...}`), a search (its query) or a background task. Each
of those leaves with a `ref`: the same facts, signed with the app's SECRET_KEY and bound to the
widget and to the call token of the page that received it. When client code sends one back (a
row passed to `update_task(task, ...)`), only a genuine `ref` of this widget and this page is
accepted, and the sandbox gets just the signed table and id — never what the browser says.
So a row id can't be guessed, forged, taken to another widget (a fork included), or reused by
another viewer (whose page has another call token).
"""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

TAG = "$t"
REFERENCE_KINDS = ("row", "search", "task")
_SALT = "pyspace.gui.value-reference"


class ValueReferenceError(ValueError):
    """A row, search or task sent by a frame is not one this widget's page was given."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def page_binding(call_token: str) -> str:
    """What ties a reference to one page load (the digest of its call token, not the token)."""
    return hashlib.sha256(call_token.encode("utf-8")).hexdigest()[:32]


def _facts(value: dict) -> dict:
    kind = value[TAG]
    if kind == "row":
        return {"table": value.get("table"), "id": value.get("id")}
    if kind == "search":
        return {"table": value.get("table"), "query": value.get("query")}
    return {"id": value.get("id")}


def sign_reference(facts: dict, widget_id: str, call_token: str) -> str:
    """A `ref` for `facts` (kind and what it names), valid for this widget and page only."""
    return _serializer().dumps({**facts, "w": widget_id, "p": page_binding(call_token)})


def read_reference(ref: object, kind: str, widget_id: str, call_token: str) -> dict:
    """The facts a genuine `ref` of `kind` for this widget and page holds; ValueReferenceError if
    it is anything else."""
    not_ours = f"This {kind} did not come from this widget's server code."
    if not isinstance(ref, str):
        raise ValueReferenceError(not_ours)
    try:
        facts = _serializer().loads(ref)
    except BadSignature:
        raise ValueReferenceError(not_ours) from None
    if (
        not isinstance(facts, dict)
        or facts.get("kind") != kind
        or facts.get("w") != widget_id
        or facts.get("p") != page_binding(call_token)
    ):
        raise ValueReferenceError(f"This {kind} belongs to another widget or page: reload it.")
    return facts


def signed_for_frame(value, widget_id: str, call_token: str):
    """A result (tagged JSON) with a `ref` on every row, search and task in it; the query a
    search holds stays inside its `ref`."""
    if isinstance(value, list):
        return [signed_for_frame(item, widget_id, call_token) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TAG)
    if kind == "dict" and isinstance(value.get("v"), dict):
        # A plain dict that has a "$t" key of its own: its keys are data, not tags.
        return {TAG: "dict", "v": _items(value["v"], signed_for_frame, widget_id, call_token)}
    signed = _items(value, signed_for_frame, widget_id, call_token)
    if kind in REFERENCE_KINDS:
        signed["ref"] = sign_reference({"kind": kind, **_facts(value)}, widget_id, call_token)
        signed.pop("query", None)
    return signed


def resolved_from_frame(value, widget_id: str, call_token: str):
    """Arguments (tagged JSON) from a frame with every row, search and task replaced by what
    its `ref` says; ValueReferenceError for one without a genuine `ref`."""
    if isinstance(value, list):
        return [resolved_from_frame(item, widget_id, call_token) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get(TAG)
    if kind in REFERENCE_KINDS:
        facts = read_reference(value.get("ref"), kind, widget_id, call_token)
        return {TAG: kind, **_facts({TAG: kind, **facts})}
    if kind == "dict" and isinstance(value.get("v"), dict):
        return {TAG: "dict", "v": _items(value["v"], resolved_from_frame, widget_id, call_token)}
    return _items(value, resolved_from_frame, widget_id, call_token)


def _items(value: dict, walk, widget_id: str, call_token: str) -> dict:
    return {key: walk(item, widget_id, call_token) for key, item in value.items()}
