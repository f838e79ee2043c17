"""Call tokens: what a GUI widget's frame shows to call its own server functions.

The frame runs in an opaque origin and gets no cookies, so it cannot prove who the viewer is.
Instead, the page that embeds it hands it a token, signed with the app's SECRET_KEY, that names
one widget and the viewer it was issued to, and expires after CALL_TOKEN_MAX_AGE seconds.
Holding it lets code do exactly one thing: call that widget's registered functions, as that viewer.

The token is signed, not encrypted: the widget's own code can read the widget id and the viewer's
numeric user id in it (never a username, cookie or session). The viewer id only labels the audit
log's "use" events of the widget's secrets; it grants nothing else. A logged-in viewer's token
also carries their session generation (see auth/sessions.py): when that session ends (logout,
log out everywhere, password change, disabled account) the token stops working with it.
"""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..auth.sessions import generation_is_current
from ..extensions import db
from ..models import User

# Long enough for someone to use a widget for a while, short enough that a copied token is soon
# worthless. Reloading the page issues a fresh one.
CALL_TOKEN_MAX_AGE = 60 * 60
_SALT = "pyspace.gui.call-token"


class CallTokenError(Exception):
    """The token is missing, forged, expired, or for another widget."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_call_token(widget_id: str, actor_id: int | None, visitor: str | None = None) -> str:
    """A token that lets the frame of `widget_id` call its functions on behalf of `actor_id`,
    while the viewer's current sessions last. `visitor` names the browser session whose
    anvil.server.session the calls use (see widget_sessions/)."""
    actor = db.session.get(User, actor_id) if actor_id is not None else None
    generation = actor.session_generation if actor is not None else None
    payload = {"widget": widget_id, "actor": actor_id, "session": generation}
    if visitor:
        payload["visitor"] = visitor
    return _serializer().dumps(payload)


def visitor_for_call_token(token: str) -> str | None:
    """The visitor session a token (already checked by actor_for_call_token) was issued for."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    visitor = payload.get("visitor") if isinstance(payload, dict) else None
    return visitor if isinstance(visitor, str) else None


def actor_for_call_token(
    token: str, widget_id: str, max_age: int = CALL_TOKEN_MAX_AGE
) -> int | None:
    """The viewer id `token` was issued to, if it is genuine, fresh and for `widget_id`."""
    if not token:
        raise CallTokenError("This call carries no widget token. Reload the page.")
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise CallTokenError("This widget's session has expired. Reload the page.") from None
    except BadSignature:
        raise CallTokenError("This widget token is not valid. Reload the page.") from None
    if not isinstance(payload, dict) or payload.get("widget") != widget_id:
        raise CallTokenError("This widget token is for another widget.")
    actor_id = payload.get("actor")
    if actor_id is not None and not generation_is_current(actor_id, payload.get("session")):
        raise CallTokenError("Your session has ended. Reload the page.")
    return actor_id
