"""anvil.server in client code: call this widget's server functions and get their results.

`call` returns the result directly, like Anvil's: under JavaScript Promise Integration Python
waits for the answer while the page stays responsive (and shows a spinner); elsewhere the frame
falls back to a synchronous request. Errors raised by the server function are raised here with
the server's type name and message.
"""

import builtins
import functools
import json

# _pyspace_frame is registered by static/js/gui-frame.js: the channel to this widget's call route.
import _pyspace_frame
from pyodide.ffi import can_run_sync, run_sync

from ._unavailable import ServiceNotAdded  # noqa: F401 (anvil.server.ServiceNotAdded)


class ServerError(Exception):
    """An error from the server side of a call; subclasses carry the server's exception type."""


@functools.cache
def _error_class(type_name: str) -> type:
    if not type_name.isidentifier() or type_name == "ServerError":
        return ServerError
    # A server ValueError can be caught here as ValueError (and as ServerError).
    builtin = getattr(builtins, type_name, None)
    bases = (ServerError,)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
        bases = (ServerError, builtin)
    try:
        return type(type_name, bases, {"__module__": __name__})
    except TypeError:  # a built-in whose layout can't be mixed in (OSError and friends)
        return type(type_name, (ServerError,), {"__module__": __name__})


def call(function_name, *args, **kwargs):
    """Call the server function `function_name` registered with @anvil.server.callable and
    return its result; arguments and results are JSON values (str, numbers, bool, None, lists,
    dicts)."""
    try:
        body = json.dumps({"args": args, "kwargs": kwargs})
    except (TypeError, ValueError) as error:
        raise TypeError(f"anvil.server.call arguments must be JSON values: {error}") from None
    if can_run_sync():
        answer_text = run_sync(_pyspace_frame.call(function_name, body))
    else:
        answer_text = _pyspace_frame.callBlocking(function_name, body)
    answer = json.loads(answer_text)
    if answer.get("ok"):
        return answer.get("result")
    error = answer.get("error") or {}
    raise _error_class(str(error.get("type") or "ServerError"))(str(error.get("message") or ""))


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

    refuse.__name__ = name
    return refuse


launch_background_task = _server_only("launch_background_task")
background_task = _server_only("background_task")
get_background_task = _server_only("get_background_task")
list_background_tasks = _server_only("list_background_tasks")
