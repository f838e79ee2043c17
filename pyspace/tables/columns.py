"""Column types: which Python values a column accepts, and where a cell keeps them.

Values cross the sandbox channel as JSON; dates and datetimes travel as tagged ISO strings
(`{"$date": "2026-11-28"}`, `{"$datetime": "2026-11-28T09:00:00+00:00"}`), decoded here before
they are checked. Datetimes are stored as naive UTC and come back timezone-aware (UTC), as
Anvil's do; a naive datetime given to a table is taken to be UTC.
"""

import json
import math
from datetime import UTC, date, datetime
from typing import Any

from ..models import COLUMN_TYPES

# Which DataCell attribute holds each type's values.
CELL_FIELD = {
    "text": "text_value",
    "number": "number_value",
    "bool": "bool_value",
    "date": "date_value",
    "datetime": "datetime_value",
    "simple_object": "object_value",
}
# Types that can be compared with greater_than and friends (and so ordered meaningfully).
ORDERED_TYPES = ("text", "number", "date", "datetime")
TYPE_LABELS = {
    "text": "text (a str)",
    "number": "a number (int or float)",
    "bool": "True or False",
    "date": "a date (datetime.date)",
    "datetime": "a datetime (datetime.datetime)",
    "simple_object": "a simple object (None, str, number, bool, list or dict of those)",
}
assert set(CELL_FIELD) == set(COLUMN_TYPES)


class TableValueError(ValueError):
    """A value that does not fit its column; the message names table, column and type."""


def decode_wire(value: Any) -> Any:
    """A value from the channel with its date/datetime tags turned back into Python values."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime" and isinstance(text, str):
            return datetime.fromisoformat(text)
        if tag == "$date" and isinstance(text, str):
            return date.fromisoformat(text)
    return value


def encode_wire(value: Any) -> Any:
    """A Python value as the channel (and the JSON API) carries it."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def check_value(table: str, column: str, type_: str, value: Any) -> Any:
    """`value` made ready for a `type_` cell (None stays None), or TableValueError."""
    if value is None:
        return None
    ok = {
        "text": lambda v: isinstance(v, str),
        "number": lambda v: (
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        ),
        "bool": lambda v: isinstance(v, bool),
        "date": lambda v: isinstance(v, date) and not isinstance(v, datetime),
        "datetime": lambda v: isinstance(v, datetime),
        "simple_object": _is_simple_object,
    }[type_](value)
    if not ok:
        raise TableValueError(
            f"Column {column!r} of table {table!r} holds {TYPE_LABELS[type_]}, "
            f"not {type(value).__name__} {_short(value)}"
        )
    if type_ == "datetime":
        return _naive_utc(table, column, value)
    if type_ == "number":
        return float(value)
    return value


def _naive_utc(table: str, column: str, value: datetime) -> datetime:
    # 0001-01-01T00:00+01:00 and 9999-12-31T23:59-01:00 are valid datetimes whose UTC time
    # falls outside the years 1–9999 a datetime can hold.
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
    except OverflowError:
        raise TableValueError(
            f"Column {column!r} of table {table!r}: {value.isoformat()} is outside the years "
            "1–9999 in UTC."
        ) from None
    return utc.replace(tzinfo=None)


def from_cell(type_: str, stored: Any) -> Any:
    """A stored cell value as widget code sees it."""
    if stored is None:
        return None
    if type_ == "datetime":
        return stored.replace(tzinfo=UTC)
    if type_ == "number" and float(stored).is_integer() and abs(stored) < 2**53:
        # Numbers are stored as floats; a whole number comes back as an int, as it went in.
        return int(stored)
    return stored


def value_size(value: Any) -> int:
    """Roughly how many bytes `value` takes (its JSON text), for the bytes quota."""
    return len(json.dumps(encode_wire(value), default=str).encode("utf-8"))


def _is_simple_object(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):  # nested deeper than JSON can be written
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return f"({text[:40]}…)" if len(text) > 40 else f"({text})"


TRUE_TEXT = ("true", "yes", "1", "y")
FALSE_TEXT = ("false", "no", "0", "n")


def _parse_number(text: str) -> float | int:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number.") from None
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number.")
    return int(number) if number.is_integer() and "." not in text else number


def _parse_bool(text: str) -> bool:
    if text.lower() in TRUE_TEXT:
        return True
    if text.lower() in FALSE_TEXT:
        return False
    raise ValueError(f"{text!r} is not true or false.")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2026-11-28.") from None


def _parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time like 2026-11-28T09:30:00Z.") from None
    try:
        if value.tzinfo is not None:
            value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the years 1–9999 in UTC.") from None
    return value


def _parse_object(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not JSON (a simple object).") from None
    except RecursionError:
        raise ValueError("The simple object is nested too deeply.") from None


PARSERS = {
    "text": lambda text: text,
    "number": _parse_number,
    "bool": _parse_bool,
    "date": _parse_date,
    "datetime": _parse_datetime,
    "simple_object": _parse_object,
}


def parse_text(type_: str, text: str) -> Any:
    """A value typed into the Data panel or read from a CSV cell, as the column's type.

    Empty text is None (no value). Raises ValueError with a message saying what is expected."""
    if type_ != "text":
        text = text.strip()
    return None if text == "" else PARSERS[type_](text)


def format_text(type_: str, value: Any) -> str:
    """A value as the Data panel shows it and a CSV holds it (parse_text reads it back)."""
    if value is None:
        return ""
    if type_ == "datetime":
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if type_ in ("date",):
        return value.isoformat()
    if type_ == "bool":
        return "true" if value else "false"
    if type_ == "simple_object":
        return json.dumps(value)
    return str(value)


def json_value(type_: str, value: Any) -> Any:
    """A value for the rows JSON: dates and datetimes as ISO text, everything else as is."""
    if value is None or type_ not in ("date", "datetime"):
        return value
    return format_text(type_, value)
