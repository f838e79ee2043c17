"""anvil.server in server code: functions GUI client code calls, and background tasks.

- `@anvil.server.callable` registers a function client code calls with `anvil.server.call`.
- `@anvil.server.background_task` registers a function that
  `anvil.server.launch_background_task('name', *args, **kwargs)` runs in a fresh sandbox of its
  own; the launch returns a `Task` at once.
- Inside a background task, `anvil.server.task_state` is a dict whose contents the launching code
  (or any later run of the widget) reads with `Task.get_state()`.

Everything about tasks is asked of the web app over the channel, which answers for this widget
only. Arguments, return values and task_state hold portable values (see `anvil._serialise`):
JSON, dates and datetimes, Media, rows, searches, tasks and portable classes.
"""

import builtins
import functools
import time
from collections.abc import Callable

from . import _channel, _serialise
from ._context import context  # noqa: F401 (anvil.server.context)
from ._cookies import cookies  # noqa: F401 (anvil.server.cookies: in HTTP endpoints)
from ._endpoints import (  # noqa: F401 (anvil.server's HTTP endpoint names)
    HttpRequest,
    HttpResponse,
    get_api_origin,
    get_app_origin,
    http_endpoint,
    request,
    route,
)
from ._session import get_session_id, session  # noqa: F401 (anvil.server.session)
from ._unavailable import ServiceNotAdded  # noqa: F401 (anvil.server.ServiceNotAdded)

_callables: dict[str, Callable] = {}
_background_tasks: dict[str, Callable] = {}
# True while the top level runs in a background task's own sandbox (see launch_background_task).
_defining_task = False


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


def background_task(function=None, *, name=None):
    """Register `function` as a background task: `@anvil.server.background_task`.

    Also usable as `@anvil.server.background_task("other_name")`.
    """
    if isinstance(function, str):
        function, name = None, function

    def register(fn):
        _background_tasks[name or fn.__name__] = fn
        return fn

    return register(function) if function is not None else register


def registered_background_task(name: str):
    """The function registered with @anvil.server.background_task as `name`, or None."""
    return _background_tasks.get(name)


class BackgroundTaskError(Exception):
    """A background task could not be launched or found, or it failed (subclasses carry the
    task's own exception type name)."""


class BackgroundTaskNotFound(BackgroundTaskError):  # noqa: N818 (Anvil's name)
    """No background task of this widget has that id."""


class BackgroundTaskKilled(BackgroundTaskError):  # noqa: N818 (Anvil's name)
    """The background task was killed (by Task.kill(), or for running past its time limit)."""


def _error_class(type_name: str) -> type:
    builtin = getattr(builtins, type_name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
        try:
            return type(type_name, (BackgroundTaskError, builtin), {"__module__": __name__})
        except TypeError:
            pass
    if not type_name.isidentifier():
        return BackgroundTaskError
    return type(type_name, (BackgroundTaskError,), {"__module__": __name__})


def _ask(message: dict) -> dict:
    task_state._flush(force=True)
    answer = _channel.ask(message)
    if not answer.get("ok"):
        raise BackgroundTaskError(answer.get("message") or "The request was refused.")
    return answer


class Task:
    """A background task of this widget, as returned by `launch_background_task`.

    Every question is answered fresh by the web app, so a Task sees the task's progress."""

    def __init__(self, info: dict):
        self._info = info

    def __repr__(self) -> str:
        return f"<Task {self._info['id']} {self._info['name']!r}>"

    def _refresh(self) -> dict:
        self._info = _ask({"op": "get_task", "id": self._info["id"]})["task"]
        return self._info

    def get_id(self) -> str:
        """The task's id (a string, for get_background_task)."""
        return self._info["id"]

    def get_task_name(self) -> str:
        """The name the task was launched by."""
        return self._info["name"]

    def get_start_time(self):
        """When the task started (a naive UTC datetime), or None while it waits to start."""
        from datetime import datetime

        started = self._refresh().get("started_at")
        return datetime.fromisoformat(started) if started else None

    def get_state(self) -> dict:
        """The task's `anvil.server.task_state`, as last sent by the task."""
        return _decoded_state(self._refresh().get("state"))

    def is_running(self) -> bool:
        """True while the task is queued or running."""
        return self._refresh()["termination_status"] is None

    def get_termination_status(self):
        """None while running; then "completed", "failed", "killed" or "missing"."""
        return self._refresh()["termination_status"]

    def is_completed(self) -> bool:
        """False while running, True when it completed; re-raises the task's error if it failed,
        and raises BackgroundTaskKilled if it was killed (or its worker was lost)."""
        status = self.get_termination_status()
        if status is None:
            return False
        self._raise_if_failed(self._info)
        return True

    def _raise_if_failed(self, info: dict) -> None:
        status = info["termination_status"]
        if status in (None, "completed"):
            return
        error = info.get("error") or {}
        if status in ("killed", "missing"):
            raise BackgroundTaskKilled(error.get("message") or f"The background task was {status}.")
        raise _error_class(str(error.get("type") or "BackgroundTaskError"))(error.get("message"))

    def get_error(self):
        """None unless the task failed; then raises the task's error, as Anvil does
        (BackgroundTaskKilled if it was killed, or its worker was lost)."""
        self._raise_if_failed(self._refresh())

    def get_return_value(self):
        """What the task's function returned (None until it completed); raises the task's
        error if it failed."""
        info = self._refresh()
        self._raise_if_failed(info)
        return _serialise.decode(info.get("return_value"))

    def kill(self) -> None:
        """Stop the task (within a few seconds)."""
        _ask({"op": "kill_task", "id": self._info["id"]})


def _decoded_state(state):
    return _serialise.decode(state) if state else {}


def launch_background_task(task_name, *args, **kwargs):
    """Start the background task `task_name` in a fresh sandbox of its own; return its Task."""
    if _defining_task:
        raise RuntimeError(
            "launch_background_task was called at the top level of the server code, which runs "
            "again in every background task's sandbox: launch from a function, or under "
            "`if __name__ == '__main__':`."
        )
    encoded_args = _serialise.encode(list(args), "args", "launch_background_task was given")
    encoded_kwargs = _serialise.encode(kwargs, "kwargs", "launch_background_task was given")
    answer = _ask(
        {
            "op": "launch_task",
            "name": str(task_name),
            "args": encoded_args,
            "kwargs": encoded_kwargs,
        }
    )
    return Task(answer["task"])


def get_background_task(task_id):
    """The Task with this id, among this widget's background tasks."""
    answer = _channel.ask({"op": "get_task", "id": str(task_id)})
    if not answer.get("ok"):
        raise BackgroundTaskNotFound(answer.get("message") or f"No background task {task_id!r}")
    return Task(answer["task"])


def list_background_tasks(all_environments=False):
    """This widget's recent background tasks, newest first."""
    return [Task(info) for info in _ask({"op": "list_tasks"})["tasks"]]


class _TaskState(dict):
    """`anvil.server.task_state`: a dict inside a background task, sent to the web app as it
    changes (at most a few times a second; always once more when the task ends)."""

    INTERVAL = 0.3

    def __init__(self):
        super().__init__()
        self._active = False
        self._dirty = False
        self._sent_at = 0.0

    def _start(self) -> None:
        self._active = True

    def _check(self) -> None:
        if not self._active:
            raise RuntimeError(
                "anvil.server.task_state is only available inside a background task "
                "(a function launched with anvil.server.launch_background_task)."
            )

    def _changed(self) -> None:
        self._dirty = True
        self._flush()

    def _flush(self, force: bool = False) -> None:
        if not (self._active and self._dirty):
            return
        if not force and time.monotonic() - self._sent_at < self.INTERVAL:
            return
        # Always a dict: a plain dict, or {"$t": "dict", ...} when a key is the tag itself.
        state = _serialise.encode(dict(self), "task_state", "anvil.server.task_state holds")
        self._dirty = False
        self._sent_at = time.monotonic()
        _channel.ask({"op": "set_task_state", "state": state})

    def __getitem__(self, key):
        self._check()
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._check()
        return super().get(key, default)

    def __setitem__(self, key, value):
        self._check()
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key):
        self._check()
        super().__delitem__(key)
        self._changed()

    def update(self, *args, **kwargs):
        self._check()
        super().update(*args, **kwargs)
        self._changed()

    def clear(self):
        self._check()
        super().clear()
        self._changed()

    def pop(self, *args):
        self._check()
        value = super().pop(*args)
        self._changed()
        return value

    def setdefault(self, key, default=None):
        self._check()
        value = super().setdefault(key, default)
        self._changed()
        return value


task_state = _TaskState()


# --- Portable values and Anvil's call errors (see anvil._serialise) ---

SerializationError = _serialise.SerializationError
portable_class = _serialise.portable_class
# Anvil's older name for portable_class.
serializable_type = portable_class


class InternalError(Exception):
    """Something went wrong on the site's side of a call, not in the widget's code."""


class NoServerFunctionError(Exception):
    """`anvil.server.call` named a function no `@anvil.server.callable` registered."""


class TimeoutError(Exception):
    """A call took longer than the run's time limit and was stopped."""


class ExecutionTerminatedError(Exception):
    """The code serving a call was stopped before it answered (it ran out of memory or CPU
    time, or its sandbox ended)."""


def call(function_name, *args, **kwargs):
    """Call this widget's own server function `function_name` from server code, in this run,
    as Anvil does: arguments and the result cross with the same portability rules as a call
    from client code (and rows arrive as the same live rows)."""
    name = str(function_name)
    function = _callables.get(name)
    if function is None:
        raise NoServerFunctionError(f"No server function matching {name!r} has been registered")
    sent_args = _serialise.decode(_serialise.encode(list(args), "args", "anvil.server.call sent"))
    sent_kwargs = _serialise.decode(_serialise.encode(kwargs, "kwargs", "anvil.server.call sent"))
    result = function(*sent_args, **sent_kwargs)
    return _serialise.decode(_serialise.encode(result, "result", f"{name} returned"))
