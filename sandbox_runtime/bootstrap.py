"""Started as the sandbox's Python: imports the runtime, then waits for exactly one job.

Usage: python3 -I -S -B bootstrap.py CHANNEL_FD [PACKAGES_DIR]

A pooled sandbox runs everything up to `receive()` ahead of time, so a run only pays for
sending its code. Limits are applied when the job arrives, before any widget code runs,
and are hard limits the code cannot raise again.
"""

import os
import sys

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, RUNTIME_DIR)
if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
    sys.path.append(sys.argv[2])

import builtins  # noqa: E402
import json  # noqa: E402
import linecache  # noqa: E402
import resource  # noqa: E402
import traceback  # noqa: E402

import anvil  # noqa: E402
import anvil.secrets  # noqa: E402
import anvil.server  # noqa: E402
import anvil.tables  # noqa: E402  (imported ahead, like the rest of the runtime)
import anvil.tables.query  # noqa: E402
from anvil import _channel  # noqa: E402

# The name widget code has in tracebacks; frames from anywhere else are left out of them.
WIDGET_FILENAME = "server_code.py"


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
        if frame.filename == WIDGET_FILENAME
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
    """Run the widget's top level, then the requested server function if any."""
    code = job["code"]
    linecache.cache[WIDGET_FILENAME] = (len(code), None, code.splitlines(True), WIDGET_FILENAME)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        exec(compile(code, WIDGET_FILENAME, "exec"), namespace)
    except SystemExit as stop:
        if stop.code not in (None, 0):
            return {"error": describe(stop)}
    except BaseException as error:  # widget code may raise anything; it is reported, not fatal
        return {"error": describe(error)}
    call = job.get("call")
    if not call:
        return {"error": None}
    function = anvil.server.registered(call["name"])
    if function is None:
        return {
            "error": {
                "type": "NoSuchFunction",
                "traceback": "",
                "message": f"No server function {call['name']!r} is registered with "
                "@anvil.server.callable",
            }
        }
    try:
        result = function(*call.get("args", []), **call.get("kwargs", {}))
    except BaseException as error:
        return {"error": describe(error)}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as error:
        return {
            "error": {
                "type": "TypeError",
                "traceback": "",
                "message": "The server function returned a value that is not JSON "
                f"(strings, numbers, lists, dicts): {error}",
            }
        }
    return {"error": None, "result": result}


def main() -> None:
    _channel.connect(int(sys.argv[1]))
    _channel.send({"op": "ready"})
    job = _channel.receive()
    apply_limits(job["limits"])
    builtins.exit = builtins.quit = sys.exit  # `site` (skipped for speed) would add these
    sys.stdout.reconfigure(line_buffering=True)
    outcome = run_job(job)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or broken stream must not hide the outcome
            pass
    _channel.send({"op": "done", **outcome})
    os._exit(0)


if __name__ == "__main__":
    main()
