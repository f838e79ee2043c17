"""Sessions that end when they should.

Flask-Login keeps `User.get_id()` — "<user id>:<session generation>" — in the session cookie and
in the remember-me cookie. `user_for_session_id` only accepts the generation the user has now, so
raising it (`User.end_all_sessions`) ends every session and remember-me cookie of that user at
once, however many copies exist: at logout, "Log out everywhere", a password change, and when an
admin disables the account. Used by the user loader in `pyspace/__init__.py`, the auth views,
admin/accounts.py and the GUI call tokens (gui/call_tokens.py).
"""

from flask import current_app, g, request, session
from flask_login import login_user
from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import User

# Every logged-in request loads its user: with a statement built once (not one per request, as
# `session.get` builds), SQLAlchemy skips building it and walking it for its cache key, about
# half the CPU of the look-up (see widgets/listing.py).
_USER_BY_ID = select(User).where(User.id == bindparam("id"))


def user_for_session_id(session_id: str) -> User | None:
    """The enabled user whose current session generation `session_id` carries, or None."""
    user_id, _, generation = (session_id or "").partition(":")
    try:
        # Cookies made before session generations existed hold a bare id: generation 0, which
        # every account has until its first logout, so an upgrade logs nobody out.
        number, generation_number = int(user_id), int(generation or 0)
    except ValueError:
        return None
    user = db.session.execute(_USER_BY_ID, {"id": number}).scalar_one_or_none()
    if user is None or user.is_disabled or user.session_generation != generation_number:
        return None
    return user


def generation_is_current(user_id: int, generation: object) -> bool:
    """False when `user_id` exists and has ended the sessions of `generation` since."""
    user = db.session.get(User, user_id)
    return user is None or user.session_generation == generation


def start_session(user: User, remember: bool) -> None:
    """Log `user` in with a fresh CSRF token: a token seen before log-in is no good after it."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)  # Flask-WTF caches the signed token for the request
    login_user(user, remember=remember)


def end_all_sessions(user: User) -> None:
    """End every session and remember-me cookie of `user`, this browser's included."""
    user.end_all_sessions()
    db.session.commit()


def restart_this_session(user: User) -> None:
    """After ending all sessions (a password change), keep this browser logged in."""
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    start_session(user, remember=remember_cookie in request.cookies)
