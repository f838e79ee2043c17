"""Masking secret values in what a run shows to people — a safety net, not a guarantee.

Every value a run read with `get_secret` is replaced by `***` in stdout, stderr, error
messages, tracebacks and function results — as written, and in the encoded forms values
usually reach output in by accident: `repr()`/`ascii()` escaping (of the text and of its
UTF-8 bytes), JSON escaping, URL encoding (`quote`, `quote_plus`), base64 (standard and
URL-safe, with or without padding, at any alignment inside a longer encoded text) and hex
(lower and upper case). Code that transforms a value any other way (reverses it, prints it one
character per line) can still reveal it: secrets are kept safe by not giving them to code you
don't trust.

For anyone but the widget's owner a field that held a value is not masked but withheld whole
(`WITHHELD`, see `execution._redacted`): where a mask sits in a text would otherwise tell a
caller which part of what they sent matched the secret.
"""

import base64
import json
from urllib.parse import quote, quote_plus

MASK = "***"
# The key that marks a tagged portable value (a date, Media, row...) in a function's result.
PORTABLE_TAG = "$t"
WITHHELD = "Output hidden: it contained a secret value"
# Values this short can't be protected by redaction: one guess answers yes or no.
SHORT_VALUE_CHARS = 4


def _python_escapes(value: str) -> set[str]:
    """`value` as it appears inside a `repr()`/`ascii()` string literal, whichever quote the
    literal uses (a text holding both quote marks is written with `'` and escapes it)."""
    forms = set()
    for show in (repr, ascii):
        forms.add(show(value)[1:-1])
        forms.add(show("\"'" + value)[1:-1][3:])  # `\'"` then the value, escaped
        forms.add(show(value.encode("utf-8"))[2:-1])  # b'...': \xNN escapes of the bytes
    return forms


def _base64_forms(data: bytes) -> set[str]:
    """Base64 of `data` alone (with and without padding), and the part of its encoding that
    is the same wherever it sits inside a longer encoded text (three possible alignments)."""
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        for offset in (0, 1, 2):
            encoded = encode(b"\0" * offset + data).decode("ascii")
            # Whole 3-byte groups made of value bytes only: 4 characters each.
            first_group, end_group = (1 if offset else 0), (offset + len(data)) // 3
            if end_group > first_group:
                forms.add(encoded[4 * first_group : 4 * end_group])
    return forms


def encoded_forms(value: str) -> set[str]:
    """Every form of `value` the redactor masks (the value itself included)."""
    data = value.encode("utf-8")
    forms = {value, data.hex(), data.hex().upper()}
    forms |= _python_escapes(value)
    forms |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    forms |= {quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="")}
    forms |= _base64_forms(data)
    return {form for form in forms if form}


class Redactor:
    """The secret values one run has read, and the masking of them."""

    def __init__(self):
        self._values: set[str] = set()
        self._forms: list[str] = []

    def add(self, value: str) -> None:
        """Mask `value` (and its encoded forms) from now on (empty values mask nothing)."""
        if value and value not in self._values:
            self._values.add(value)
            forms = set(self._forms) | encoded_forms(value)
            # A form that contains another must be masked whole, before the shorter one.
            self._forms = sorted(forms, key=len, reverse=True)

    def text(self, text: str, truncated: bool = False) -> str:
        """`text` with every secret value masked.

        For output cut at the size cap, a tail that could be the start of a value is masked
        too, so truncation never shows the first characters of a secret.
        """
        for form in self._forms:
            text = text.replace(form, MASK)
        if truncated:
            text = self._mask_cut_tail(text, sorted(self._values, key=len, reverse=True))
        return text

    def contains_secret(self, text: str, truncated: bool = False) -> bool:
        """Whether `text` holds a value (or the cut start of one) that `text()` would mask."""
        return self.text(text, truncated) != text

    @staticmethod
    def _mask_cut_tail(text: str, values: list[str]) -> str:
        for value in values:
            for length in range(min(len(value) - 1, len(text)), 0, -1):
                if text.endswith(value[:length]):
                    return text[:-length] + MASK
        return text

    def data(self, data: bytes) -> bytes:
        """`data` (a Media's bytes) with every secret value's UTF-8 forms masked."""
        for form in self._forms:
            data = data.replace(form.encode("utf-8"), MASK.encode("ascii"))
        return data

    def value(self, value):
        """A JSON value (a function's result) with every string, and every key, masked.

        Portable values arrive as tagged JSON (sandbox_runtime/anvil/_serialise.py), so the
        strings inside dates, rows, portable objects and Media names are masked like any other;
        a Media's base64 content is masked in its decoded bytes, so it stays valid base64."""
        if not self._values:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            if value.get(PORTABLE_TAG) == "media" and isinstance(value.get("data"), str):
                return self._media_value(value)
            return {self.text(key): self.value(item) for key, item in value.items()}
        return value

    def _media_value(self, media: dict) -> dict:
        masked = {key: self.value(item) for key, item in media.items() if key != "data"}
        try:
            content = base64.b64decode(media["data"], validate=True)
        except ValueError:
            masked["data"] = self.text(media["data"])
            return masked
        masked["data"] = base64.b64encode(self.data(content)).decode("ascii")
        return masked

    def value_contains_secret(self, value) -> bool:
        """Whether any string or key inside the JSON value `value` holds a secret value."""
        return bool(self._values) and self.value(value) != value
