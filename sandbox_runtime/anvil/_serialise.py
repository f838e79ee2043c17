"""Anvil's portable types on the wire: the values that cross between client code, server code
and background tasks, written as JSON with tags.

Plain JSON values (str, int, float, bool, None, lists, dicts with string keys) are written as
themselves (tuples become lists, as in Anvil). Everything else is a dict with a `"$t"` tag:

    {"$t": "datetime", "v": "2024-05-01T12:00:00+02:00"}   (time zone kept; naive stays naive)
    {"$t": "date", "v": "2024-05-01"}
    {"$t": "media", "content_type", "name", "data": <base64>}  or  {..., "url": ...}
    {"$t": "portable", "name": <registered name>, "v": <the object's data, encoded>}
    {"$t": "dict", "v": {...}}    a plain dict that itself has a "$t" key
    {"$t": "row" | "search" | "task", ...}   written by the runtime that owns them

Rows, searches and tasks are encoded and decoded by hooks that each runtime registers
(`register`), because server code and client code hold different objects for them.

The same file is used by server code in the sandbox (sandbox_runtime/anvil/_serialise.py) and by
client code in the browser (static/gui-runtime/anvil/_serialise.py); a test keeps them equal.
A value that can't cross raises SerializationError naming the path to it.
"""

import base64
import datetime
import math

from ._media import BlobMedia, Media, URLMedia

TAG = "$t"
# How deeply lists, dicts and portable objects may nest in one value (the host counts the
# encoded JSON's own nesting against its limit too).
MAX_DEPTH = 24


class Limits:
    """The Media bytes one value may carry (the sandbox's bootstrap sets the site's setting)."""

    media_bytes = 4 * 1024 * 1024


class SerializationError(Exception):
    """A value can't be sent between client and server code (Anvil's name): it is not one of
    the portable types, or it is too large or nested too deeply."""


# Registered portable classes: name -> class, and class -> name.
_portable_by_name: dict = {}
_portable_names: dict = {}
# Runtime hooks: [(class, encode(value, encode_nested) -> dict)], {tag: decode(data, decode)}.
_encoders: list = []
_decoders: dict = {}


def portable_class(cls=None, name=None):
    """Make a class's instances portable: `@anvil.server.portable_class` (or with a name).

    Client and server code each define the class; it is matched by name, which defaults to the
    class's own name. An instance is sent as its `__serialize__(global_data)` if it has one,
    else its `__dict__`; it is rebuilt without calling `__init__`, by
    `__deserialize__(data, global_data)` if the class has one, else by restoring `__dict__`.
    """
    if isinstance(cls, str) and name is None:
        cls, name = None, cls

    def register(klass):
        if not isinstance(klass, type):
            raise TypeError("portable_class decorates a class")
        registered_name = klass.__name__ if name is None else name
        if not isinstance(registered_name, str):
            raise TypeError("The name given to portable_class must be a str")
        _portable_by_name[registered_name] = klass
        _portable_names[klass] = registered_name
        # Anvil sets this on every portable class; some code reads it.
        klass.SERIALIZATION_INFO = (registered_name, klass)  # type: ignore[attr-defined]
        return klass

    return register(cls) if cls is not None else register


def register(cls, tag, encoder, decoder):
    """Send instances of `cls` as `encoder(value, encode_nested)` (a dict with `TAG: tag`) and
    rebuild values tagged `tag` with `decoder(data, decode_nested)`."""
    _encoders.append((cls, encoder))
    _decoders[tag] = decoder


def _describe(value) -> str:
    return type(value).__name__


class _Encoder:
    def __init__(self, action: str):
        self.action = action
        self.media_bytes = 0
        self.global_data: dict = {}

    def error(self, path: str, why: str) -> SerializationError:
        return SerializationError(f"{self.action} a value that is not portable: {path} ({why})")

    def encode(self, value, path: str, depth: int = 0):
        if depth > MAX_DEPTH:
            raise self.error(path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(path, f"{value!r} is not JSON: numbers must be finite")
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, (list, tuple)):
            return [self.encode(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        if type(value) is dict:
            return self.encode_dict(value, path, depth)
        return self.encode_object(value, path, depth)

    def encode_object(self, value, path: str, depth: int):
        if isinstance(value, datetime.datetime):
            return {TAG: "datetime", "v": value.isoformat()}
        if isinstance(value, datetime.date):
            return {TAG: "date", "v": value.isoformat()}
        if isinstance(value, Media):
            return self.encode_media(value, path)
        if type(value) in _portable_names:
            return self.encode_portable(value, path, depth)
        for registered_cls, encoder in _encoders:
            if isinstance(value, registered_cls):
                return encoder(value, lambda inner, at: self.encode(inner, path + at, depth + 1))
        if not isinstance(value, dict):
            raise self.error(path, f"type {_describe(value)}")
        # A dict subclass (an OrderedDict, a defaultdict) crosses as a plain dict.
        return self.encode_dict(value, path, depth)

    def encode_dict(self, value: dict, path: str, depth: int):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise self.error(f"{path}[{key!r}]", "dict keys must be strings")
            encoded[key] = self.encode(item, f"{path}[{key!r}]", depth + 1)
        return {TAG: "dict", "v": encoded} if TAG in encoded else encoded

    def encode_media(self, media: Media, path: str):
        if isinstance(media, URLMedia) and media._bytes is None:
            return {
                TAG: "media",
                "url": media.url,
                "content_type": media.content_type,
                "name": media.name,
            }
        try:
            data = media.get_bytes()
        except Exception as error:  # a Media subclass of the code's own, or a failed fetch
            raise self.error(path, f"its bytes could not be read: {error}") from None
        self.media_bytes += len(data)
        if self.media_bytes > Limits.media_bytes:
            raise SerializationError(
                f"{self.action} more Media than can cross at {path}: one value may carry at "
                f"most {Limits.media_bytes / (1024 * 1024):g} MB of Media "
                f"({self.media_bytes / (1024 * 1024):.1f} MB so far)."
            )
        return {
            TAG: "media",
            "content_type": media.content_type,
            "name": media.name,
            "data": base64.b64encode(data).decode("ascii"),
        }

    def encode_portable(self, value, path: str, depth: int):
        name = _portable_names[type(value)]
        if hasattr(value, "__serialize__"):
            data = value.__serialize__(self.global_data)
        else:
            data = dict(value.__dict__)
        return {
            TAG: "portable",
            "name": name,
            "v": self.encode(data, f"{path}.<{name}>", depth + 1),
        }


def encode(value, root: str = "value", action: str = "Sent"):
    """`value` as tagged JSON. SerializationError("<action> a value that is not portable:
    <path> (...)") names where the first value that can't cross sits, from `root`."""
    return _Encoder(action).encode(value, root)


def _decode_media(data: dict):
    if data.get("url") is not None:
        media = URLMedia(str(data["url"]))
        media.content_type = str(data.get("content_type") or media.content_type)
        media.name = data.get("name")
        return media
    content = base64.b64decode(str(data.get("data", "")), validate=True)
    return BlobMedia(str(data.get("content_type") or ""), content, name=data.get("name"))


def _decode_portable(data: dict, decode_nested, global_data: dict):
    name = data.get("name")
    cls = _portable_by_name.get(name)
    if cls is None:
        raise SerializationError(
            f"Received an object of portable class {name!r}, which is not registered here: "
            "define it (with @anvil.server.portable_class) in both client and server code."
        )
    fields = decode_nested(data.get("v"))
    if hasattr(cls, "__new_deserialized__"):
        return cls.__new_deserialized__(fields, global_data)
    # MicroPython (client code): a class that defines no __new__ has none to look up.
    obj = cls.__new__(cls) if hasattr(cls, "__new__") else object.__new__(cls)
    if hasattr(obj, "__deserialize__"):
        obj.__deserialize__(fields, global_data)
    elif isinstance(fields, dict):
        try:
            obj.__dict__.update(fields)
        except TypeError:  # MicroPython (client code): an instance's __dict__ is read-only
            for key, value in fields.items():
                setattr(obj, key, value)
    return obj


def _decode_dict(data: dict, nested, global_data: dict):
    return {key: nested(item) for key, item in data["v"].items()}


_BUILT_IN_DECODERS = {
    "dict": _decode_dict,
    "datetime": lambda data, nested, g: datetime.datetime.fromisoformat(data["v"]),
    "date": lambda data, nested, g: datetime.date.fromisoformat(data["v"]),
    "media": lambda data, nested, g: _decode_media(data),
    "portable": _decode_portable,
}


def decode(data, depth: int = 0, global_data: dict | None = None):
    """The value tagged JSON `data` stands for (the inverse of `encode`)."""
    if global_data is None:
        global_data = {}
    if depth > MAX_DEPTH + 2:
        raise SerializationError(f"Received a value nested more than {MAX_DEPTH} levels deep.")

    def nested(inner):
        return decode(inner, depth + 1, global_data)

    if isinstance(data, list):
        return [nested(item) for item in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(TAG)
    if tag is None:
        return {key: nested(item) for key, item in data.items()}
    try:
        if tag in _BUILT_IN_DECODERS:
            return _BUILT_IN_DECODERS[tag](data, nested, global_data)
        if tag in _decoders:
            return _decoders[tag](data, nested)
    except SerializationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SerializationError(f"Received a malformed {tag!r} value: {error}") from None
    raise SerializationError(f"Received a value of an unknown kind: {tag!r}")
