"""anvil.server in client code: call this widget's server functions and get their results.

`call` returns the result directly, like Anvil's: under JavaScript Promise Integration Python
waits for the answer while the page stays responsive (and shows a spinner); elsewhere the frame
falls back to a synchronous request. Errors raised by the server function are raised here with
the server's type name and message.

Arguments and results are Anvil's portable values (see anvil/_serialise.py): JSON, dates and
datetimes, Media, rows and searches (see anvil/tables), background tasks and portable classes.
"""

import builtins
import json
import re
import sys

from pyodide.ffi import can_run_sync, run_sync

from . import _serialise
from ._unavailable import ServiceNotAdded, named  # noqa: F401 (anvil.server.ServiceNotAdded)

SerializationError = _serialise.SerializationError
portable_class = _serialise.portable_class
# Anvil's older name for portable_class.
serializable_type = portable_class


class ServerError(Exception):
    """An error from the server side of a call; subclasses carry the server's exception type."""


class InternalError(ServerError):
    """Something went wrong on the site's side of a call, not in the widget's code."""


class NoServerFunctionError(ServerError):
    """`anvil.server.call` named a function no `@anvil.server.callable` registered."""


class TimeoutError(ServerError):  # Anvil's name, inside anvil.server
    """The call took longer than the run's time limit and was stopped."""


class ExecutionTerminatedError(ServerError):
    """The code serving the call was stopped before it answered (out of memory or CPU time)."""


class PermissionDenied(ServerError):  # noqa: N818 (Anvil's name)
    """Client code asked for something it may not do: a data table its owner didn't open to
    client code, or a change to one opened for searching only."""


class BackgroundTaskError(ServerError):
    """A background task failed (subclasses carry the task's own exception type name)."""


class BackgroundTaskNotFound(BackgroundTaskError):  # noqa: N818 (Anvil's name)
    """No background task of this widget has that id."""


class BackgroundTaskKilled(BackgroundTaskError):  # noqa: N818 (Anvil's name)
    """The background task was killed (or ran past its time limit)."""


# (name, bases) -> class: one class however often it is asked for, so `except` clauses
# catch it (a dict rather than functools.cache, which MicroPython lacks).
_EXCEPTION_CLASSES: dict = {}
_ON_MICROPYTHON = sys.implementation.name == "micropython"


def _exception_class(name: str, bases: tuple) -> type:
    """The exception class `name` of `bases`, made once; of the first base alone where they
    can't be mixed (a built-in such as OSError; any two exception classes under MicroPython)."""
    known = _EXCEPTION_CLASSES.get((name, bases))
    if known is None:
        try:
            known = type(name, bases, {"__module__": __name__})
        except TypeError:
            known = type(name, bases[:1], {"__module__": __name__})
        _EXCEPTION_CLASSES[(name, bases)] = known
    return known


# A SerializationError from the server side: catchable as either (as ServerError alone under
# MicroPython).
_SerializationServerError = _exception_class(
    "_SerializationServerError", (ServerError, SerializationError)
)

# Anvil's names for what the site reports.
_NAMED_ERRORS = {
    "SerializationError": _SerializationServerError,
    "InternalError": InternalError,
    "SandboxError": InternalError,
    "SandboxUnavailable": InternalError,
    "NoServerFunctionError": NoServerFunctionError,
    "TimeLimitExceeded": TimeoutError,
    "CPULimitExceeded": ExecutionTerminatedError,
    "MemoryError": ExecutionTerminatedError,
    "Killed": ExecutionTerminatedError,
    "BackgroundTaskNotFound": BackgroundTaskNotFound,
    "BackgroundTaskKilled": BackgroundTaskKilled,
    "PermissionDenied": PermissionDenied,
}


def _error_class(type_name: str, base: type = ServerError) -> type:
    """The one class for a server error's type name: the same class however it is asked for,
    so `except anvil.users.AuthenticationFailed` catches what a call raises."""
    if type_name in _NAMED_ERRORS:
        return _NAMED_ERRORS[type_name]
    if not _is_identifier(type_name) or type_name == "ServerError":
        return base
    builtin = getattr(builtins, type_name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
        # A server ValueError can be caught here as ValueError and as ServerError; MicroPython
        # can't mix two exception classes, and client code catches it as `except ValueError`.
        return _exception_class(type_name, (builtin,) if _ON_MICROPYTHON else (base, builtin))
    return _exception_class(type_name, (base,))


_ASCII_NAME = re.compile("^[A-Za-z_][A-Za-z0-9_]*$")


def _is_identifier(name: str) -> bool:
    if hasattr(name, "isidentifier"):
        return name.isidentifier()
    return _ASCII_NAME.match(name) is not None  # MicroPython's str has no isidentifier


def _error(error: dict, base: type = ServerError) -> Exception:
    return _error_class(str(error.get("type") or base.__name__), base)(
        str(error.get("message") or "")
    )


def _ask(route: str, body: dict) -> dict:
    """Send `body` to this widget's call route `route` and return the answer (a dict)."""
    # The channel to the call route, registered by static/js/gui-frame.js. Imported when used,
    # not at the top: Pyodide's memory snapshot holds this module imported already, made before
    # any frame registered the channel (pyspace/gui/snapshot.py).
    import _pyspace_frame

    text = json.dumps(body)
    if can_run_sync():
        answer_text = run_sync(_pyspace_frame.call(route, text))
    else:
        answer_text = _pyspace_frame.callBlocking(route, text)
    return json.loads(answer_text)


def call(function_name, *args, **kwargs):
    """Call the server function `function_name` registered with @anvil.server.callable and
    return its result (portable values both ways)."""
    body = {
        "args": _serialise.encode(list(args), "args", "anvil.server.call was given"),
        "kwargs": _serialise.encode(kwargs, "kwargs", "anvil.server.call was given"),
    }
    answer = _ask(str(function_name), body)
    if answer.get("ok"):
        return _serialise.decode(answer.get("result"))
    raise _error(answer.get("error") or {})


def callable(*args, **kwargs):
    """Server code registers functions with @anvil.server.callable; client code calls them."""
    raise RuntimeError(
        "@anvil.server.callable belongs in server code. Client code calls those "
        "functions with anvil.server.call('name', ...)."
    )


def _server_only(name):
    def refuse(*args, **kwargs):
        raise RuntimeError(
            f"anvil.server.{name} can't be used in client code: background tasks run on the "
            "server. Call a server function (anvil.server.call('name', ...)) that launches it "
            "with anvil.server.launch_background_task."
        )

    return named(refuse, name)


launch_background_task = _server_only("launch_background_task")
background_task = _server_only("background_task")
get_background_task = _server_only("get_background_task")
list_background_tasks = _server_only("list_background_tasks")

# Rows, searches and tasks a server function returns (they ask this module's _ask for more).
from . import _client_values  # noqa: E402, F401
