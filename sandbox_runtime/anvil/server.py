"""Server functions that a GUI widget's client code calls with `anvil.server.call(name, ...)`."""

_callables: dict[str, object] = {}


def callable(function=None, *, name=None):
    """Register `function` so client code can call it: `@anvil.server.callable`.

    Also usable as `@anvil.server.callable("other_name")` or `@anvil.server.callable(name=...)`.
    """
    if isinstance(function, str):
        function, name = None, function

    def register(fn):
        _callables[name or fn.__name__] = fn
        return fn

    return register(function) if function is not None else register


def registered(name: str):
    """The function registered as `name`, or None."""
    return _callables.get(name)


def registered_names() -> list:
    """The names client code may call."""
    return sorted(_callables)
