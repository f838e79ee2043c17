"""`pyodide.ffi` under MicroPython: its `jsffi` module has the same proxies.

MicroPython can't wait for a JavaScript promise from a plain function, so `can_run_sync()` is
False and `anvil.server.call` uses the frame's blocking request instead (still synchronous).
"""

from jsffi import JsException, JsProxy, create_proxy, to_js  # noqa: F401


def can_run_sync():
    return False


def run_sync(awaitable):
    raise RuntimeError(
        "run_sync needs Pyodide: under MicroPython, use `await` in an async function instead"
    )
