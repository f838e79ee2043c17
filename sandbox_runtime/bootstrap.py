"""Started as the sandbox's Python: imports the runtime, then waits for exactly one job.

Usage: python3 -I -S -B bootstrap.py CHANNEL_FD [PACKAGES_DIR]

A pooled sandbox runs everything up to `receive()` ahead of time — and may be told to import
common packages (`{"op": "preload"}`) — so a run only pays for sending its code. Limits are
applied when the job arrives, before any widget code runs, and are hard limits the code cannot
raise again.
"""

import os
import sys

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, RUNTIME_DIR)
if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
    sys.path.append(sys.argv[2])

import builtins  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import importlib.abc  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import linecache  # noqa: E402
import resource  # noqa: E402
import traceback  # noqa: E402

import anvil  # noqa: E402
import anvil._endpoints  # noqa: E402
import anvil._session  # noqa: E402
import anvil.http  # noqa: E402  (requests itself is imported on first use)
import anvil.secrets  # noqa: E402
import anvil.server  # noqa: E402
import anvil.tables  # noqa: E402  (imported ahead, like the rest of the runtime)
import anvil.tables.query  # noqa: E402
import anvil.users  # noqa: E402
from anvil import (  # noqa: E402, F401  (rows, searches, tasks cross)
    _channel,
    _serialise,
    _server_values,
)

# The name widget code has in tracebacks; frames from anywhere else are left out of them.
WIDGET_FILENAME = "server_code.py"
# The package a widget's server modules form (`from . import Utils`), Anvil's name for an app
# package that names none. As in Anvil, a top-level `import Utils` finds a module of it too.
APP_PACKAGE = "main_app_package"
widget_filenames = {WIDGET_FILENAME}


class AppModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the widget's server modules from the job: `APP_PACKAGE.<name>`, with dotted
    names inside packages (a name is a package when others start with it and a dot)."""

    def __init__(self, sources: dict):
        self.sources = sources

    def _local(self, fullname: str):
        if fullname == APP_PACKAGE:
            return ""
        if fullname.startswith(APP_PACKAGE + "."):
            return fullname[len(APP_PACKAGE) + 1 :]
        return None

    def _is_package(self, local: str) -> bool:
        return local == "" or any(name.startswith(local + ".") for name in self.sources)

    def find_spec(self, fullname, path=None, target=None):
        local = self._local(fullname)
        if local is None:
            # Anvil's top-level fallback: `import Utils` is `import APP_PACKAGE.Utils`.
            if path is None and fullname in self.sources:
                module = importlib.import_module(f"{APP_PACKAGE}.{fullname}")
                sys.modules[fullname] = module
                return importlib.util.spec_from_loader(fullname, _Already(module))
            return None
        if local and local not in self.sources and not self._is_package(local):
            return None
        return importlib.util.spec_from_loader(
            fullname, self, origin=f"{local}.py", is_package=self._is_package(local)
        )

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        local = self._local(module.__name__) or ""
        code = self.sources.get(local, "") if local else ""
        filename = f"{local}.py"
        widget_filenames.add(filename)
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, "exec"), module.__dict__)


class _Already(importlib.abc.Loader):
    """The loader for a module imported already (the top-level alias of an app module)."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        return None


def apply_limits(limits: dict) -> None:
    """Hard resource limits for this process and everything it starts."""
    used_cpu = int(
        resource.getrusage(resource.RUSAGE_SELF).ru_utime
        + resource.getrusage(resource.RUSAGE_SELF).ru_stime
    )
    cpu = used_cpu + limits["cpu_seconds"]
    # The soft limit sends SIGXCPU; the hard one, a second later, SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["max_processes"], limits["max_processes"]))
    scratch = limits["scratch_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (scratch, scratch))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def widget_traceback(error: BaseException) -> str:
    """The traceback of `error`, keeping only frames in the widget's own code."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename in widget_filenames
    ]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)


def describe(error: BaseException) -> dict:
    return {
        "type": type(error).__name__,
        "message": str(error),
        "traceback": widget_traceback(error),
    }


def run_job(job: dict) -> dict:
    """Run the widget's top level (its first module, then an import of every other one, so
    functions registered anywhere are there), then the requested server function if any."""
    anvil.app._setup(job.get("widget_id"))
    anvil._endpoints.set_origins(job.get("api_origin"), job.get("app_origin"))
    anvil.server.context._setup(job.get("context") or {})
    modules = job.get("modules") or [{"name": "server_code", "code": job.get("code", "")}]
    first, others = modules[0], modules[1:]
    code = first["code"]
    filename = f"{first['name']}.py"
    widget_filenames.add(filename)
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    call = job.get("call")
    background = bool(call and call.get("background"))
    # In a background task's sandbox the top level runs only to define the task's function:
    # it is not "__main__", and launching from it (which would launch again in every task) is
    # refused.
    namespace = {"__name__": "server_code" if background else "__main__", "__builtins__": builtins}
    anvil.server._defining_task = background
    try:
        if others:
            sys.meta_path.insert(0, AppModules({m["name"]: m["code"] for m in others}))
            importlib.import_module(APP_PACKAGE)
            # The first module is part of the package too: a sibling importing it gets this one.
            main = type(sys)(f"{APP_PACKAGE}.{first['name']}")
            main.__dict__.update(namespace, __package__=APP_PACKAGE, __file__=filename)
            namespace = main.__dict__
            sys.modules[main.__name__] = main
        exec(compile(code, filename, "exec"), namespace)
        for module in others:
            importlib.import_module(f"{APP_PACKAGE}.{module['name']}")
    except SystemExit as stop:
        if stop.code not in (None, 0):
            return {"error": describe(stop)}
    except BaseException as error:  # widget code may raise anything; it is reported, not fatal
        return {"error": describe(error)}
    anvil.server._defining_task = False
    if not call:
        return {"error": None}
    return call_server_function(call)


def call_server_function(call: dict) -> dict:
    """Call the server function (or background task, or HTTP endpoint) the job names, after
    the top level ran."""
    if call.get("http") is not None:
        try:
            return {"error": None, "result": anvil._endpoints.dispatch(call["http"])}
        except BaseException as error:
            return {"error": describe(error)}
    background = bool(call.get("background"))
    if background:
        function = anvil.server.registered_background_task(call["name"])
        decorator = "@anvil.server.background_task"
    else:
        function = anvil.server.registered(call["name"])
        decorator = "@anvil.server.callable"
    if function is None:
        kind = "background task" if background else "server function"
        return {
            "error": {
                "type": "NoServerFunctionError",
                "traceback": "",
                "message": f"No {kind} {call['name']!r} is registered with {decorator}",
            }
        }
    if background:
        anvil.server.task_state._start()
    try:
        args = _serialise.decode(call.get("args", []))
        kwargs = _serialise.decode(call.get("kwargs", {}))
        result = function(*args, **kwargs)
        if not background:
            anvil._session.session._save()
    except BaseException as error:
        return {"error": describe(error)}
    finally:
        if background:
            # The task's last state reaches the web app even if it changed a moment ago.
            # (A state that is not JSON is dropped: the run's outcome still counts.)
            with contextlib.suppress(Exception):
                anvil.server.task_state._flush(force=True)
    return portable_outcome(result)


def portable_outcome(result) -> dict:
    """The "done" message's outcome for a function's `result`: portable values as tagged JSON
    (NaN and Infinity refused: the page and the site's JSON answers could not carry them)."""
    try:
        encoded = _serialise.encode(result, "result", "The server function returned")
    except _serialise.SerializationError as error:
        return {"error": {"type": "SerializationError", "traceback": "", "message": str(error)}}
    except BaseException as error:  # a __serialize__ or a Media of the code's own failed
        return {"error": describe(error)}
    return {"error": None, "result": encoded}


def preload(modules: list) -> None:
    """Import packages widget code commonly uses before any code arrives (warm sandboxes)."""
    for name in modules:
        # A missing or broken package is the run's own problem, if it imports it.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def main() -> None:
    _channel.connect(int(sys.argv[1]))
    _channel.send({"op": "ready"})
    job = _channel.receive()
    if job.get("op") == "preload":
        preload(job.get("modules", []))
        _channel.send({"op": "ready"})
        job = _channel.receive()
    apply_limits(job["limits"])
    _serialise.Limits.media_bytes = int(
        job["limits"].get("media_bytes", _serialise.Limits.media_bytes)
    )
    # `site` (skipped for speed) would add these; widget code expects them to stop it.
    builtins.exit = builtins.quit = sys.exit  # type: ignore[assignment]
    if isinstance(sys.stdout, io.TextIOWrapper):  # always, under `python3 -I -S`
        sys.stdout.reconfigure(line_buffering=True)
    outcome = run_job(job)
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream must not hide the outcome.
        with contextlib.suppress(Exception):
            stream.flush()
    _channel.send({"op": "done", **outcome})
    os._exit(0)


if __name__ == "__main__":
    main()
