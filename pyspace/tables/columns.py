"""Column types: which Python values a column accepts, and where a cell keeps them.

Values cross the sandbox channel as JSON; dates and datetimes travel as tagged ISO strings
(`{"$date": "2026-11-28"}`, `{"$datetime": "2026-11-28T09:00:00+00:00"}`), decoded here before
they are checked. Datetimes are stored as naive UTC and come back timezone-aware (UTC), as
Anvil's do; a naive datetime given to a table is taken to be UTC. A row (a link column's
value) travels as `{"$row": {"table": "players", "id": "12"}}`. A media value travels from
widget code as `{"$media": {"content_type", "name", "data": <base64>}}` and back as
`{"$media": {"content_type", "name", "length"}}` (its bytes are fetched when asked for).
"""

import base64
import binascii
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from ..models import COLUMN_TYPES, LINK_TYPES

# Which DataCell attribute holds each type's values.
CELL_FIELD = {
    "text": "text_value",
    "number": "number_value",
    "bool": "bool_value",
    "date": "date_value",
    "datetime": "datetime_value",
    "simple_object": "object_value",
    # A media value's content type, name and length; its bytes are a DataMedia row.
    "media": "object_value",
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
    "link_single": "a row",
    "link_multiple": "a list of rows",
    "media": "a Media object (anvil.BlobMedia or any anvil.Media)",
}
assert set(CELL_FIELD) | set(LINK_TYPES) == set(COLUMN_TYPES)
# The names Anvil gives the types (list_columns()), where they differ from ours.
ANVIL_TYPES = {"text": "string", "simple_object": "simpleObject"}
# The most rows one link_multiple value may hold.
MAX_LINKS = 1000


# The largest media value any setting allows: it crosses the sandbox's channel as base64.
MEDIA_CEILING = 5 * 1024 * 1024
# Longest content type and name a media value keeps (longer ones are cut).
MEDIA_TEXT_MAX = 255


def anvil_type(type_: str) -> str:
    """The type's name as Anvil's list_columns() gives it."""
    return ANVIL_TYPES.get(type_, type_)


@dataclass(frozen=True)
class RowRef:
    """A row given as a value: of table `table` (None: the link column's own table)."""

    table: str | None
    id: int


@dataclass(frozen=True)
class MediaValue:
    """A media value written by widget code or uploaded: its bytes, content type and name."""

    content_type: str
    name: str | None
    data: bytes

    def meta(self) -> dict[str, Any]:
        """What the cell keeps (the bytes are kept apart, in DataMedia)."""
        return {"content_type": self.content_type, "name": self.name, "length": len(self.data)}


@dataclass(frozen=True)
class StoredMedia:
    """A media value as read from a cell: what it is, not its bytes (fetched on demand)."""

    content_type: str
    name: str | None
    length: int


def media_value(content_type: Any, name: Any, data: bytes) -> MediaValue:
    """A MediaValue with its content type and name made safe to keep (text, bounded)."""
    kind = str(content_type or "application/octet-stream")[:MEDIA_TEXT_MAX]
    return MediaValue(kind, None if name is None else str(name)[:MEDIA_TEXT_MAX], data)


def _media(value: Any) -> MediaValue | None:
    if not isinstance(value, dict) or set(value) != {"$media"}:
        return None
    media = value["$media"]
    if not isinstance(media, dict) or not isinstance(media.get("data"), str):
        return None
    try:
        data = base64.b64decode(media["data"], validate=True)
    except (binascii.Error, ValueError):
        return None
    return media_value(media.get("content_type"), media.get("name"), data)


def _row_ref(value: Any) -> RowRef | None:
    if not isinstance(value, dict) or set(value) != {"$row"} or not isinstance(value["$row"], dict):
        return None
    ref = value["$row"]
    try:
        row_id = int(str(ref.get("id")))
    except (TypeError, ValueError):
        return None
    table = ref.get("table")
    return RowRef(table if isinstance(table, str) else None, row_id)


class TableValueError(ValueError):
    """A value that does not fit its column; the message names table, column and type."""


# Python types and the column type an auto-created column gets for them, first match wins
# (bool before number: True is an int too; datetime before date).
INFERRED_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    ((int, float), "number"),
    (str, "text"),
    (datetime, "datetime"),
    (date, "date"),
    (RowRef, "link_single"),
    (MediaValue, "media"),
)


def inferred_type(value: Any) -> str:
    """The column type an auto-created column gets for its first value (not None)."""
    for python_type, type_ in INFERRED_TYPES:
        if isinstance(value, python_type):
            return type_
    if isinstance(value, list) and value and all(isinstance(item, RowRef) for item in value):
        return "link_multiple"
    return "simple_object"


def decode_wire(value: Any) -> Any:
    """A value from the channel with its date/datetime/row tags turned back into Python values."""
    if isinstance(value, list) and value and all(_row_ref(item) for item in value):
        return [_row_ref(item) for item in value]
    if _row_ref(value) is not None:
        return _row_ref(value)
    if (media := _media(value)) is not None:
        return media
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag == "$datetime" and isinstance(text, str):
            return datetime.fromisoformat(text)
        if tag == "$date" and isinstance(text, str):
            return date.fromisoformat(text)
    return value


def encode_wire(value: Any) -> Any:
    """A Python value as the channel (and the JSON API) carries it."""
    if isinstance(value, RowRef):
        return {"$row": {"table": value.table, "id": str(value.id)}}
    if isinstance(value, StoredMedia):
        return {
            "$media": {
                "content_type": value.content_type,
                "name": value.name,
                "length": value.length,
            }
        }
    if isinstance(value, list) and value and isinstance(value[0], RowRef):
        return [encode_wire(item) for item in value]
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def check_value(table: str, column: str, type_: str, value: Any) -> Any:
    """`value` made ready for a `type_` cell (None stays None), or TableValueError."""
    if value is None:
        return None
    ok = _ACCEPTS[type_](value)
    if not ok:
        raise TableValueError(
            f"Column {column!r} of table {table!r} holds {TYPE_LABELS[type_]}, "
            f"not {type(value).__name__} {_short(value)}"
        )
    if type_ == "datetime":
        return _naive_utc(table, column, value)
    if type_ == "number":
        return float(value)
    if type_ == "link_multiple":
        if len(value) > MAX_LINKS:
            raise TableValueError(
                f"Column {column!r} of table {table!r} holds at most {MAX_LINKS} rows."
            )
        return list(value)
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
    if type_ == "media":
        return StoredMedia(
            str(stored.get("content_type") or ""), stored.get("name"), int(stored.get("length", 0))
        )
    if type_ == "datetime":
        return stored.replace(tzinfo=UTC)
    if type_ == "number" and float(stored).is_integer() and abs(stored) < 2**53:
        # Numbers are stored as floats; a whole number comes back as an int, as it went in.
        return int(stored)
    return stored


def value_size(value: Any) -> int:
    """Roughly how many bytes `value` takes (its JSON text; a media value's bytes and what
    its cell keeps), for the bytes quota."""
    # json.dumps escapes every non-ASCII character, so its length in characters is its length
    # in bytes. Plain values skip encode_wire (a bulk import sizes every cell).
    kind = type(value)
    if kind is str:
        return len(encode_basestring_ascii(value))
    if kind is bool:
        return 4 if value else 5
    if kind is float or kind is int:
        return len(repr(value))
    if isinstance(value, MediaValue):
        return len(value.data) + len(json.dumps(value.meta()).encode("utf-8"))
    return len(json.dumps(encode_wire(value), default=str))


def _is_simple_object(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):  # nested deeper than JSON can be written
        return False
    return True


# What each type accepts (before conversion), looked up once per value.
_ACCEPTS: dict[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str),
    "number": lambda v: (
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ),
    "bool": lambda v: isinstance(v, bool),
    "date": lambda v: isinstance(v, date) and not isinstance(v, datetime),
    "datetime": lambda v: isinstance(v, datetime),
    "simple_object": _is_simple_object,
    "link_single": lambda v: isinstance(v, RowRef),
    "link_multiple": lambda v: (
        isinstance(v, (list, tuple)) and all(isinstance(item, RowRef) for item in v)
    ),
    "media": lambda v: isinstance(v, MediaValue),
}


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


def _parse_link(text: str) -> RowRef:
    try:
        return RowRef(None, int(text))
    except ValueError:
        raise ValueError(f"{text!r} is not a row id (a whole number).") from None


def _refuse_media_text(text: str) -> Any:
    raise ValueError("A media cell holds a file: upload it in the Data panel.")


PARSERS = {
    "text": lambda text: text,
    "number": _parse_number,
    "bool": _parse_bool,
    "date": _parse_date,
    "datetime": _parse_datetime,
    "simple_object": _parse_object,
    "link_single": _parse_link,
    "link_multiple": lambda text: [_parse_link(part.strip()) for part in text.split(",")],
    "media": _refuse_media_text,
}


def parse_text(type_: str, text: str) -> Any:
    """A value typed into the Data panel or read from a CSV cell, as the column's type.

    Empty text is None (no value). Raises ValueError with a message saying what is expected."""
    if type_ != "text":
        text = text.strip()
    return None if text == "" else PARSERS[type_](text)


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "datetime": lambda value: value.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    "date": lambda value: value.isoformat(),
    "bool": lambda value: "true" if value else "false",
    "simple_object": json.dumps,
    "link_single": lambda value: str(value.id),
    "link_multiple": lambda value: ",".join(str(ref.id) for ref in value),
    "media": lambda value: value.name or f"({value.content_type}, {value.length:,} bytes)",
}


def format_text(type_: str, value: Any) -> str:
    """A value as the Data panel shows it and a CSV holds it (parse_text reads it back)."""
    if value is None:
        return ""
    return FORMATTERS.get(type_, str)(value)


def json_value(type_: str, value: Any) -> Any:
    """A value for the rows JSON: dates and datetimes as ISO text, links as row ids (text),
    everything else as is."""
    if type_ == "link_single" and value is not None:
        return str(value.id)
    if type_ == "link_multiple" and value is not None:
        return [str(ref.id) for ref in value]
    if type_ == "media" and value is not None:
        return {"content_type": value.content_type, "name": value.name, "length": value.length}
    if value is None or type_ not in ("date", "datetime"):
        return value
    return format_text(type_, value)


def column_choices(tables: list) -> list[tuple[str, str]]:
    """The Data panel's column types as (value, label): the plain types, then a link to each of
    the widget's `tables` (value "link_single:<table id>"), labelled with Anvil's names."""
    plain = [(type_, anvil_type(type_)) for type_ in CELL_FIELD]
    links = [
        (f"{type_}:{table.id}", f"{label} {table.name}")
        for table in tables
        for type_, label in (("link_single", "link to"), ("link_multiple", "links to"))
    ]
    return plain + links


def type_label(column: Any) -> str:
    """A column's type as the Data panel shows it: Anvil's name, and a link's table."""
    if column.type in LINK_TYPES:
        target = column.link_table.name if column.link_table is not None else "(deleted table)"
        return f"{column.type} → {target}"
    return anvil_type(column.type)
