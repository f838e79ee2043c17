"""Numbers from URLs and query strings, kept within what the database can look up.

`/widgets/<w>/secrets/<30 digits>` or `?page=9999…` parse as Python integers of any size, and
then fail deep in the database driver (SQLite and PostgreSQL hold 64-bit integers) as a 500.
Every `<int:…>` in a route is bounded here (a bigger one is simply not found: 404), and views
read numeric query arguments with `query_int`. Used by create_app and the widgets and secrets
views.
"""

from typing import overload

from flask import request
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter

# The largest id or page number any route accepts: a signed 64-bit integer.
MAX_INT = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:name>` that matches only 0 … MAX_INT (and so 404s above it)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


@overload
def query_int(name: str, default: int, minimum: int = 0) -> int: ...
@overload
def query_int(name: str, default: None, minimum: int = 0) -> int | None: ...
def query_int(name: str, default: int | None, minimum: int = 0) -> int | None:
    """The query argument `name` as an integer in minimum … MAX_INT, `default` when it is
    missing, and a 400 saying so when it is anything else (`?page=abc`, `?page=9999…`)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_INT)):
        number = int(raw)
        if minimum <= number <= MAX_INT:
            return number
    raise BadRequest(f"“{name}” must be a whole number from {minimum} to {MAX_INT}.")


def refuse_nul_in_url_values(endpoint: str | None, values: dict | None) -> None:
    """404 for a URL value with a NUL byte (`/widgets/%00`): no id or name has one, and
    PostgreSQL refuses such a string outright (a 500) instead of finding nothing."""
    if values and any("\x00" in str(value) for value in values.values()):
        raise NotFound()
