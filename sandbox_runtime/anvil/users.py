"""Who started this run: `anvil.users.get_user()`, read-only (py.space accounts are the users).

Returns the account that pressed Run or made the GUI call, as a row-like object
(`user['username']`, `user['email']`, `user.get_id()`), or None for an anonymous viewer or a
scheduled task. The web app answers from the run itself; nothing about other accounts is
reachable from here. Logging in, signing up and changing accounts happen on the site, not in
widget code.
"""

from . import _channel


class AuthenticationFailed(Exception):  # noqa: N818 (Anvil's name)
    """The caller is not logged in (raised by `@anvil.server.callable(require_user=True)`)."""


class UserExists(Exception):  # noqa: N818 (Anvil's name)
    """Anvil's name for signing up twice; py.space accounts are made on the site."""


class EmailNotConfirmed(AuthenticationFailed):
    """Anvil's name; py.space accounts have no e-mail confirmation."""


class AccountIsNotEnabled(AuthenticationFailed):
    """Anvil's name; a disabled py.space account can't start runs at all."""


class TooManyPasswordFailures(AuthenticationFailed):
    """Anvil's name; log-in throttling happens on the site."""


class PasswordNotAcceptable(Exception):  # noqa: N818 (Anvil's name)
    """Anvil's name; passwords are set on the site."""


class UserRow:
    """The row-like account `get_user()` returns. Read-only: columns are `username`, `email`."""

    def __init__(self, user_id: str, columns: dict):
        self._id = user_id
        self._columns = dict(columns)

    def __getitem__(self, column: str):
        try:
            return self._columns[column]
        except KeyError:
            raise KeyError(
                f"The user has no column {column!r} (py.space users have: "
                f"{', '.join(self._columns)})"
            ) from None

    def __setitem__(self, column: str, value) -> None:
        raise TypeError("py.space users are read-only in widget code")

    def get(self, column: str, default=None):
        """The column's value, or `default` when the user has no such column."""
        return self._columns.get(column, default)

    def get_id(self) -> str:
        """The account's id: stable for this account, unique on this site."""
        return self._id

    def keys(self):
        return self._columns.keys()

    def items(self):
        return self._columns.items()

    def __iter__(self):
        # Like an Anvil row, iterating gives (column, value) pairs, so dict(user) works.
        return iter(self._columns.items())

    def __eq__(self, other) -> bool:
        return isinstance(other, UserRow) and other._id == self._id

    def __hash__(self) -> int:
        return hash(("user", self._id))

    def __repr__(self) -> str:
        return f"<anvil.users user {self._columns.get('username')!r}>"


def get_user(allow_remembered: bool = True):
    """The account that started this run or call, or None (anonymous, or a scheduled task).

    `allow_remembered` is accepted for Anvil compatibility: a remembered log-in is a log-in.
    """
    answer = _channel.ask({"op": "get_user"})
    if not answer.get("ok"):
        raise RuntimeError(answer.get("message") or "Could not find out who is logged in")
    user = answer.get("user")
    if user is None:
        return None
    return UserRow(str(user["id"]), {"username": user["username"], "email": user["email"]})


def _refuse(name: str):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"anvil.users.{name}() is not available on py.space: people sign up and log in "
            "on the site itself, and get_user() tells you who they are."
        )

    refuse.__name__ = name
    return refuse


for _name in (
    "login_with_form",
    "signup_with_form",
    "login_with_email",
    "signup_with_email",
    "force_login",
    "logout",
    "send_password_reset_email",
):
    globals()[_name] = _refuse(_name)
del _name
