"""`anvil.users` for widget server code: the widget's Users table and who is logged in.

`get_user()` is the logged-in account's row of `app_tables.users` (None for a visitor or a
scheduled task): `user['email']`, `user['plan'] = 'pro'` for a column the owner added, rows of
other tables link to it and `search(owner=user)` finds them. The account columns (`username`,
`email`, `enabled`, `signed_up`, `last_login`, `confirmed_email`) belong to the site's account
and can't be written from here.

`force_login(row)`, `logout()`, `login_with_email()` and `signup_with_email()` change who this
widget sees as logged in for the rest of this visitor's session of this widget (its later
server calls), never the site's own log-in.
"""

from . import _channel


class AuthenticationFailed(Exception):  # noqa: N818 (Anvil's name)
    """Not logged in (`require_user=True`), or a log-in that failed (wrong e-mail or password)."""


class UserExists(AuthenticationFailed):
    """signup_with_email: an account already has that e-mail address."""


class EmailNotConfirmed(AuthenticationFailed):
    """The account's e-mail address has not been confirmed."""


class AccountIsNotEnabled(AuthenticationFailed):
    """The account is disabled (or the row is not a usable account)."""


class TooManyPasswordFailures(AuthenticationFailed):
    """Too many wrong passwords for this account lately: the site's log-in throttle."""


class PasswordNotAcceptable(AuthenticationFailed):
    """signup_with_email: the password is too short or too long for the site."""


class MFARequired(AuthenticationFailed):
    """Anvil's name; py.space accounts have no second factor, so it is never raised."""


_ERRORS = {
    cls.__name__: cls
    for cls in (
        TypeError,
        AuthenticationFailed,
        UserExists,
        EmailNotConfirmed,
        AccountIsNotEnabled,
        TooManyPasswordFailures,
        PasswordNotAcceptable,
    )
}


def _ask(op: str, **payload) -> dict:
    answer = _channel.ask({"op": op, **payload})
    if not answer.get("ok"):
        message = answer.get("message") or "anvil.users could not answer"
        kind = _ERRORS.get(str(answer.get("error")))
        if kind is not None:
            raise kind(message)
        raise RuntimeError(message)
    return answer


def _row(wire):
    if wire is None:
        return None
    from .tables import Row, Table  # only when there is a user: most runs never need tables

    return Row._from_wire(Table._named(wire["table"]), wire)


def get_user(allow_remembered: bool = True):
    """The logged-in account's row of `app_tables.users`, or None.

    `allow_remembered` is accepted for Anvil compatibility: a remembered log-in is a log-in.
    """
    return _row(_ask("get_user").get("user"))


def force_login(user_row, remember: bool = False) -> None:
    """Log this visitor in to the widget as `user_row`, a row of `app_tables.users`."""
    from .tables import Row

    if not isinstance(user_row, Row):
        raise TypeError("force_login takes a row of app_tables.users")
    _ask("users_force_login", table=user_row._table._name, id=user_row.get_id())


def logout(invalidate_client_objects: bool = False) -> None:
    """Log this visitor out of the widget (the site's own log-in stays as it is)."""
    _ask("users_logout")


def login_with_email(email: str, password: str, remember: bool = False):
    """Log in to the widget with a py.space account's e-mail address and password; the
    account's row of `app_tables.users`. Raises AuthenticationFailed (wrong address or
    password), TooManyPasswordFailures, AccountIsNotEnabled."""
    if not isinstance(email, str) or not isinstance(password, str):
        raise TypeError("login_with_email takes an e-mail address and a password (strings)")
    return _row(_ask("users_login_with_email", email=email, password=password).get("user"))


def signup_with_email(email: str, password: str, remember: bool = False, **_ignored):
    """Make a py.space account with this e-mail address and password (when the widget's owner
    allows sign-up from the widget and the site's sign-up mode does), and log in to the
    widget as it; its row of `app_tables.users`. Raises UserExists, PasswordNotAcceptable."""
    if not isinstance(email, str) or not isinstance(password, str):
        raise TypeError("signup_with_email takes an e-mail address and a password (strings)")
    return _row(_ask("users_signup_with_email", email=email, password=password).get("user"))


def _not_here(name: str):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"anvil.users.{name}() is not available in server code on py.space: people log "
            "in and reset passwords on the site itself."
        )

    refuse.__name__ = name
    return refuse


login_with_form = _not_here("login_with_form")
signup_with_form = _not_here("signup_with_form")
send_password_reset_email = _not_here("send_password_reset_email")
