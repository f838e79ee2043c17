"""`anvil.server.cookies.local` and `.shared` in HTTP endpoints, as Anvil's: dicts of portable
values kept in the caller's browser between requests.

`local` belongs to this widget alone; `shared` to every widget of the same owner. The web app
reads them from the request's cookies (signed by the site, so the browser can't change them,
and only the widget's own: the site's cookies never reach widget code) and, when the code
changed one, signs it again and sends it back as Set-Cookie, scoped to the widget's endpoints.
`set(expiry_days, **values)` chooses how long the browser keeps it (30 days otherwise).

Elsewhere (GUI calls, the Run button, tasks) there is no cookie to read: a GUI widget's frame
has none of the site's. Using them there raises ServiceNotAdded; anvil.server.session keeps a
visitor's data between GUI calls instead.
"""

from . import _serialise
from ._unavailable import ServiceNotAdded

DEFAULT_EXPIRY_DAYS = 30


class _Cookie(dict):
    """One cookie's values (`local` or `shared`); usable while an HTTP endpoint answers."""

    def __init__(self, kind: str):
        super().__init__()
        self._kind = kind
        self._available = False
        self._changed = False
        self._expiry_days: int | float = DEFAULT_EXPIRY_DAYS

    def _require(self) -> None:
        if not self._available:
            raise ServiceNotAdded(
                f"anvil.server.cookies.{self._kind} works in HTTP endpoints "
                "(@anvil.server.http_endpoint) on py.space; between GUI calls, keep a "
                "visitor's data in anvil.server.session."
            )

    def __repr__(self) -> str:
        # Never raises: code that lists every object it holds (debuggers, gc walks) must not
        # fail on the cookies of a run that isn't an endpoint.
        if not self._available:
            return f"<anvil.server.cookies.{self._kind}: HTTP endpoints only>"
        return dict.__repr__(self)

    def _start(self, encoded: dict | None) -> None:
        """Fill the cookie with the values the request sent (tagged JSON)."""
        dict.clear(self)
        dict.update(self, _serialise.decode(encoded or {}))
        self._available, self._changed = True, False
        self._expiry_days = DEFAULT_EXPIRY_DAYS

    def _outcome(self) -> dict | None:
        """What the web app sends back as Set-Cookie (None when the code changed nothing)."""
        if not self._changed:
            return None
        values = _serialise.encode(dict(self), f"anvil.server.cookies.{self._kind}", "Stored")
        return {"values": values, "expiry_days": self._expiry_days}

    def set(self, expiry_days, **values):
        """Store `values` and keep the cookie `expiry_days` days (a number) from now."""
        self._require()
        if isinstance(expiry_days, bool) or not isinstance(expiry_days, int | float):
            raise TypeError("expiry_days must be a number of days")
        if expiry_days <= 0:
            raise ValueError("expiry_days must be more than 0")
        self._expiry_days = expiry_days
        self.update(values)
        self._changed = True


def _reading(name):
    method = getattr(dict, name)

    def read(self, *args, **kwargs):
        self._require()
        return method(self, *args, **kwargs)

    read.__name__ = name
    return read


def _writing(name):
    method = getattr(dict, name)

    def write(self, *args, **kwargs):
        self._require()
        self._changed = True
        return method(self, *args, **kwargs)

    write.__name__ = name
    return write


for _name in (
    "__getitem__", "__contains__", "__iter__", "__len__", "__eq__", "get", "keys",
    "values", "items", "copy",
):  # fmt: skip
    setattr(_Cookie, _name, _reading(_name))
for _name in ("__setitem__", "__delitem__", "pop", "popitem", "setdefault", "update", "clear"):
    setattr(_Cookie, _name, _writing(_name))


class _Cookies:
    """`anvil.server.cookies`."""

    def __init__(self):
        self.local = _Cookie("local")
        self.shared = _Cookie("shared")

    def _start(self, sent: dict | None) -> None:
        sent = sent or {}
        self.local._start(sent.get("local"))
        self.shared._start(sent.get("shared"))

    def _outcome(self) -> dict:
        changed = {"local": self.local._outcome(), "shared": self.shared._outcome()}
        return {kind: value for kind, value in changed.items() if value is not None}


cookies = _Cookies()
