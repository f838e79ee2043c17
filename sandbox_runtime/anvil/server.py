"""Server functions that a GUI widget's client code calls with `anvil.server.call(name, ...)`."""

import builtins
import functools
from collections.abc import Callable

_callables: dict[str, Callable] = {}


class PermissionDenied(Exception):  # noqa: N818 (Anvil's name)
    """The caller is logged in but `require_user=<function>` turned them away (Anvil's name)."""


def _checking_user(fn, name: str, require_user):
    """`fn`, preceded by Anvil's `require_user` check: True (anyone logged in) or a function
    that gets the user and returns whether to let them in."""

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        import anvil.users  # only when a call is checked: most runs never ask who they are

        user = anvil.users.get_user()
        if user is None:
            if require_user is True:
                message = "You must be logged in to call this server function"
            else:
                message = f"You must be logged in to call server function {name!r}"
            raise anvil.users.AuthenticationFailed(message)
        if require_user is not True and not require_user(user):
            raise PermissionDenied(f"You do not have permission to call server function {name!r}")
        return fn(*args, **kwargs)

    return checked


def callable(function=None, *, name=None, require_user=None):
    """Register `function` so client code can call it: `@anvil.server.callable`.

    Also usable as `@anvil.server.callable("other_name")` or `@anvil.server.callable(name=...)`.
    `require_user=True` refuses callers who are not logged in with
    `anvil.users.AuthenticationFailed` before the function runs; `require_user=<function>` also
    calls it with the user and refuses with `PermissionDenied` when it returns something false.
    """
    if isinstance(function, str):
        function, name = None, function
    if require_user not in (None, True, False) and not builtins.callable(require_user):
        raise TypeError("require_user must be True, False or a function of the user")

    def register(fn):
        registered_name = name or fn.__name__
        if require_user:
            _callables[registered_name] = _checking_user(fn, registered_name, require_user)
        else:
            _callables[registered_name] = fn
        return fn

    return register(function) if function is not None else register


def registered(name: str):
    """The function registered as `name` (wrapped in its `require_user` check), or None."""
    return _callables.get(name)


def registered_names() -> list:
    """The names client code may call."""
    return sorted(_callables)
