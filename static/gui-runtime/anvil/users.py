"""anvil.users in client code: who is viewing this widget, from the frame's boot data.

`get_user()` answers without a round trip: the frame was given the viewer's username and
e-mail address (and nothing else about them) when it loaded, or None for an anonymous viewer.
Server functions get the same account from `anvil.users.get_user()` in server code — check
there, not here, before doing anything on a user's behalf: code in the browser can be changed
by whoever runs it. (A log-in made by server code, force_login or login_with_email, shows in
server code's get_user() only.)

`login_with_form()` returns the viewer when they are logged in; otherwise it asks the page to
open the site's own log-in page, which brings them back to the widget logged in (the widget
starts again then, and get_user() answers with them). `signup_with_form()` does the same with
the site's sign-up page.
"""

from . import server
from ._unavailable import named


def _frame():
    """The frame's channel, registered by static/js/gui-frame.js. Imported when used, not on
    import: Pyodide's memory snapshot holds this module imported already, made before any
    frame registered the channel (pyspace/gui/snapshot.py)."""
    import _pyspace_frame

    return _pyspace_frame


# Raised by server functions with require_user; `except anvil.users.AuthenticationFailed`
# around anvil.server.call catches them (the same class anvil.server.call raises).
AuthenticationFailed = server._error_class("AuthenticationFailed")


class ViewerRow:
    """The viewer as a read-only, row-like object: `user['username']`, `user['email']` (None
    when the account has no address)."""

    def __init__(self, username: str, email: str | None = None):
        self._columns = {"username": username, "email": email}

    def __getitem__(self, column: str):
        try:
            return self._columns[column]
        except KeyError:
            raise KeyError(
                f"The user has no column {column!r} (py.space users have: username, email)"
            ) from None

    def get(self, column: str, default=None):
        return self._columns.get(column, default)

    def keys(self):
        return self._columns.keys()

    def items(self):
        return self._columns.items()

    def __iter__(self):
        return iter(self._columns.items())

    def get_id(self):
        raise NotImplementedError(
            "A user's id is only available in server code: call a server function and use "
            "anvil.users.get_user().get_id() there."
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, ViewerRow) and other._columns == self._columns

    def __hash__(self) -> int:
        return hash(("viewer", self._columns["username"]))

    def __repr__(self) -> str:
        return f"<anvil.users user {self._columns['username']!r}>"


def login_with_form(show_signup_option: bool = True, remember_by_default: bool = True, **_ignored):
    """The viewer if logged in; else open the site's log-in page (leaving this page, which
    comes back logged in) and return None."""
    user = get_user()
    if user is None:
        _frame().requestLogin()
    return user


def signup_with_form(remember_by_default: bool = True, **_ignored):
    """The viewer if logged in (they have an account already); else open the site's sign-up
    page (leaving this page, which comes back logged in to the new account) and return None."""
    user = get_user()
    if user is None:
        _frame().requestSignup()
    return user


def get_user(allow_remembered: bool = True):
    """The viewer (`user['username']`, `user['email']`), or None when nobody is logged in."""
    frame = _frame()
    username = getattr(frame, "viewerUsername", None)
    email = getattr(frame, "viewerEmail", None)
    return ViewerRow(str(username), str(email) if email else None) if username else None


def _server_only(name: str):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"anvil.users.{name}() is not available in client code on py.space: call a server "
            "function that uses it, or login_with_form() to open the site's log-in page."
        )

    return named(refuse, name)


login_with_email = _server_only("login_with_email")
signup_with_email = _server_only("signup_with_email")
force_login = _server_only("force_login")
logout = _server_only("logout")
send_password_reset_email = _server_only("send_password_reset_email")
