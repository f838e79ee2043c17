"""Which visitor session a GUI widget's calls belong to, for `anvil.server.session`.

Each browser gets a random id in its (signed) site session cookie. A visitor session id joins
it to the account logged in and that account's session generation, hashed: logging out (which
starts a new generation, auth/sessions.py) or logging in as someone else starts a new, empty
anvil.server.session. The id goes into the frame's call token, so client code can't pick
another visitor's session.
"""

import hashlib
from secrets import token_urlsafe

from flask import session

BROWSER_KEY = "widget_visitor"


def visitor_session_id(viewer) -> str:
    """This browser's visitor session id for `viewer` (None or anonymous: the browser alone)."""
    browser = session.get(BROWSER_KEY)
    if not isinstance(browser, str):
        browser = session[BROWSER_KEY] = token_urlsafe(16)
    return _joined(browser, viewer)


def existing_visitor_session_id(viewer) -> str | None:
    """This browser's visitor session id for `viewer` if the browser has one already (None
    otherwise: nothing is added to its cookie). HTTP endpoints with `cross_site_session` use it
    to share the session the widget's GUI calls use."""
    browser = session.get(BROWSER_KEY)
    return _joined(browser, viewer) if isinstance(browser, str) else None


def _joined(browser: str, viewer) -> str:
    who = f"{viewer.id}:{viewer.session_generation}" if viewer is not None else "anonymous"
    return hashlib.sha256(f"{browser}|{who}".encode()).hexdigest()[:40]
