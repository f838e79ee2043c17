"""Anvil services py.space does not provide: their modules import, and say so when used.

Anvil's editor writes `import anvil.google.auth, anvil.google.drive` (and the like) at the top
of a server module whenever the app has the service enabled, used or not. Those lines must not
stop the module: only using the service raises `ServiceNotAdded`, naming it.
"""


class ServiceNotAdded(Exception):  # noqa: N818 (Anvil's name)
    """The code used an Anvil service that py.space does not provide."""


def named(function, name: str, doc: str | None = None):
    """`function`, called `name` (and documented by `doc`) where Python lets a function be
    renamed: MicroPython (client code) doesn't, and keeps the name it was defined with."""
    try:
        function.__name__ = function.__qualname__ = name
        if doc is not None:
            function.__doc__ = doc
    except AttributeError:
        pass
    return function


def not_provided(service: str, what: str):
    """A function that raises ServiceNotAdded for `what` (e.g. "anvil.google.auth.login")."""

    def unavailable(*args, **kwargs):
        raise ServiceNotAdded(
            f"{what}() needs the {service} service, which py.space does not provide: "
            f"widgets on this site can't use {service}."
        )

    return named(
        unavailable,
        what.rsplit(".", 1)[-1],
        f"Not available on py.space: raises ServiceNotAdded ({service}).",
    )


def module_getattr(service: str, module: str):
    """A module-level `__getattr__` for a service module: any other name, used, raises."""

    def __getattr__(name: str):  # noqa: N807 (the module hook Python looks for)
        if name.startswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return not_provided(service, f"{module}.{name}")

    return __getattr__


class UnavailableObject:
    """An object standing for a service's object (Drive's app_files, Files' data_files): using
    any attribute or item of it raises ServiceNotAdded."""

    def __init__(self, service: str, what: str):
        self._service = service
        self._what = what

    def _refuse(self, *args, **kwargs):
        raise ServiceNotAdded(
            f"{self._what} needs the {self._service} service, which py.space does not provide: "
            f"widgets on this site can't use {self._service}."
        )

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        self._refuse()

    __getitem__ = __iter__ = __len__ = __contains__ = __call__ = _refuse

    def __repr__(self) -> str:
        return f"<{self._what}: not available on py.space>"
