"""anvil.js in client code: the browser's JavaScript, through Pyodide's `js` module.

`anvil.js.window` is the frame's global object; `call_js`, `await_promise`, `import_from` and
`new` work as in Anvil. (`get_dom_node` needs Anvil components, which widgets don't have: a
widget's HTML is reached through `window.document`.)
"""

import functools


def _js():
    import js

    return js


def __getattr__(name: str):
    if name == "window":
        return _js()
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"module 'anvil.js' has no attribute {name!r}")


def await_promise(promise):
    """Wait for a JavaScript Promise and return its value (raises its error)."""
    from pyodide.ffi import run_sync

    return run_sync(promise)


def call_js(function, *args):
    """Call a JavaScript function (or the global function named `function`) and return what it
    gives, waiting for it if it is a Promise."""
    if isinstance(function, str):
        function = getattr(_js(), function)
    result = function(*args)
    if hasattr(result, "then"):
        return await_promise(result)
    return result


def import_from(url: str):
    """The JavaScript module at `url` (a dynamic `import()`)."""
    from pyodide.code import run_js

    return await_promise(run_js(f"import({url!r})"))


def new(constructor, *args):
    """`new constructor(...args)`."""
    return constructor.new(*args)


def get_dom_node(component):
    """Anvil components don't exist in widgets: use window.document to reach the HTML."""
    raise TypeError(
        "anvil.js.get_dom_node needs an Anvil component; a widget's HTML is reached through "
        "anvil.js.window.document"
    )


def report_exceptions(function):
    """Anvil's decorator for JavaScript callbacks: errors are reported as usual here."""

    @functools.wraps(function)
    def reported(*args, **kwargs):
        return function(*args, **kwargs)

    return reported
