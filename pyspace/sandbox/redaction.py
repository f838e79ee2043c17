"""Masking secret values in what a run shows to people — a safety net, not a guarantee.

Every value a run read with `get_secret` is replaced by `***` in stdout, stderr, error
messages, tracebacks and function results — as written, and in the encoded forms values
usually reach output in by accident:

- `repr()`/`ascii()` escaping of the text, and of its bytes in UTF-8, UTF-16 and Latin-1;
- JSON escaping, HTML escaping (`html.escape`, with or without quotes);
- URL encoding with any set of characters left unescaped (`quote`, `quote_plus`, `quote(s,
  safe="/:=+&")`, a URL `requests` prepared), UTF-8 or Latin-1, either case of hex digits;
- base64 (standard and URL-safe, with or without padding, at any alignment inside a longer
  encoded text, of the UTF-8 or the Latin-1 bytes — HTTP Basic auth uses Latin-1), also when
  wrapped into lines (`base64.encodebytes`, MIME, PEM);
- quoted-printable (as text or binary, with soft line breaks);
- hex (lower and upper case).

Code that transforms a value any other way (reverses it, prints it one character per line) can
still reveal it: secrets are kept safe by not giving them to code you don't trust.

The cost stays proportional to the output: a fixed list of literal forms per value (found with
`str.replace`), one regular expression per value for URL encodings (only in text holding a `%`
or a `+`), and, only in text that looks line-wrapped, a search for a base64 or quoted-printable
form split across line breaks.

For anyone but the widget's owner a field that held a value is not masked but withheld whole
(`WITHHELD`, see `exchange._redacted`): where a mask sits in a text would otherwise tell a
caller which part of what they sent matched the secret.
"""

import base64
import html
import json
import re
import string
from collections.abc import Callable
from urllib.parse import quote, quote_plus

MASK = "***"
# The key that marks a tagged portable value (a date, Media, row...) in a function's result.
PORTABLE_TAG = "$t"
WITHHELD = "Output hidden: it contained a secret value"
# Values this short can't be protected by redaction: one guess answers yes or no.
SHORT_VALUE_CHARS = 4
# Characters URL encoding never escapes (RFC 3986 "unreserved").
_URL_UNRESERVED = frozenset(string.ascii_letters + string.digits + "_.-~")
# Base64 wrapped into lines (76 characters a line for `encodebytes` and MIME, 64 for PEM), and
# quoted-printable text with soft line breaks (a line ending in `=`).
_BASE64_LINES = re.compile(r"(?:[A-Za-z0-9+/_-]{40,}\r?\n)+[A-Za-z0-9+/_=-]*")
_QUOTED_PRINTABLE_LINES = re.compile(r"^(?:[^\r\n]*=\r?\n)+[^\r\n]*", re.MULTILINE)
_LINE_BREAK = re.compile(r"\r?\n")
_SOFT_LINE_BREAK = re.compile(r"=\r?\n")


def _python_escapes(value: str) -> set[str]:
    """`value` as it appears inside a `repr()`/`ascii()` string literal, whichever quote the
    literal uses (a text holding both quote marks is written with `'` and escapes it)."""
    forms = set()
    for show in (repr, ascii):
        forms.add(show(value)[1:-1])
        forms.add(show("\"'" + value)[1:-1][3:])  # `\'"` then the value, escaped
    return forms


def _bytes_escapes(data: bytes) -> set[str]:
    """`data` as it appears inside a `repr()` bytes literal (`b'...'`, \\xNN escapes), with
    either quote mark."""
    return {repr(data)[2:-1], repr(b"\"'" + data)[2:-1][3:]}


def _byte_encodings(value: str) -> list[bytes]:
    """The bytes code usually turns `value` into: UTF-8, and Latin-1 where it differs."""
    encodings = [value.encode("utf-8")]
    try:
        latin1 = value.encode("latin-1")
    except UnicodeEncodeError:
        return encodings
    if latin1 != encodings[0]:
        encodings.append(latin1)
    return encodings


def _quoted_printable_forms(data: bytes) -> set[str]:
    """Quoted-printable of `data` without its soft line breaks: line breaks kept (text) or
    escaped (binary), spaces kept (inside a line), escaped (at a line's end, or `quotetabs`)
    or `_` (headers)."""
    forms = set()
    for newline in ("\n", "=0A"):
        for space in (" ", "=20", "_"):
            parts = []
            for byte in data:
                if byte == 0x0A:
                    parts.append(newline)
                elif byte == 0x20:
                    parts.append(space)
                elif byte == 0x09:
                    parts.append("\t" if space == " " else "=09")
                elif 33 <= byte <= 126 and byte != 0x3D and not (space == "_" and byte == 0x5F):
                    parts.append(chr(byte))
                else:
                    parts.append(f"={byte:02X}")
            forms.add("".join(parts))
    return forms


def _hex_pattern(byte: int) -> str:
    return "%" + "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")


def url_pattern(value: str) -> re.Pattern | None:
    """A pattern matching `value` URL-encoded with any choice of characters left as they are
    (`quote` with any `safe`, `quote_plus`, a URL `requests` prepared), as UTF-8 or Latin-1 and
    in either case of hex digits; None when URL encoding can't change `value`."""
    if all(char in _URL_UNRESERVED for char in value):
        return None
    parts = []
    for char in value:
        if char in _URL_UNRESERVED:
            parts.append(re.escape(char))
            continue
        options = [re.escape(char)]
        if char == " ":
            options.append(r"\+")
        for data in _byte_encodings(char):
            options.append("".join(_hex_pattern(byte) for byte in data))
        parts.append(f"(?:{'|'.join(options)})")
    return re.compile("".join(parts))


def _base64_forms(data: bytes, inner_only: bool = False) -> set[str]:
    """Base64 of `data` alone (with and without padding; not with `inner_only`), and the part
    of its encoding that is the same wherever it sits inside a longer encoded text (three
    possible alignments)."""
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        if not inner_only:
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
    """Every literal form of `value` the redactor masks (the value itself included); URL
    encodings are matched by `url_pattern`."""
    data = value.encode("utf-8")
    forms = {value, data.hex(), data.hex().upper()}
    forms |= _python_escapes(value)
    for encoded in (*_byte_encodings(value), value.encode("utf-16-le"), value.encode("utf-16-be")):
        forms |= _bytes_escapes(encoded)
    forms |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    forms |= {html.escape(value), html.escape(value, quote=False)}
    forms |= {quote(value), quote(value, safe=""), quote_plus(value), quote_plus(value, safe="")}
    return {form for form in forms | wrappable_forms(value) if form}


def wrappable_forms(value: str, inner_only: bool = False) -> set[str]:
    """The forms of `value` encoders wrap into lines: base64 and quoted-printable. With
    `inner_only`, of base64 only the parts found wherever the value sits in a longer encoded
    text (every other base64 form contains one of them, when the value has 3 bytes or more)."""
    forms = _quoted_printable_forms(value.encode("utf-8"))
    for encoded in _byte_encodings(value):
        forms |= _base64_forms(encoded, inner_only=inner_only and len(encoded) >= 3)
    return {form for form in forms if form}


def _may_hold_wrapped_lines(text: str) -> bool:
    """Whether `text` has what base64 or quoted-printable wrapping leaves: a soft line break, or
    a long line ending in 40 characters without a space (a quick test before a slower one)."""
    if "\n" not in text:
        return False
    if "=\n" in text or "=\r\n" in text:
        return True
    return any(len(line) >= 40 and " " not in line[-40:] for line in text.splitlines()[:-1])


def _unwrapped(text: str) -> str:
    """`text` without quoted-printable soft line breaks, then without line breaks."""
    for line_break in ("=\r\n", "=\n", "\r\n", "\n"):
        text = text.replace(line_break, "")
    return text


class Redactor:
    """The secret values one run has read, and the masking of them."""

    def __init__(self):
        self._values: set[str] = set()
        self._forms: list[str] = []
        self._patterns: list[re.Pattern] = []
        self._wrappable_forms: list[str] = []

    def add(self, value: str) -> None:
        """Mask `value` (and its encoded forms) from now on (empty values mask nothing)."""
        if value and value not in self._values:
            self._values.add(value)
            forms = set(self._forms) | encoded_forms(value)
            # A form that contains another must be masked whole, before the shorter one.
            self._forms = sorted(forms, key=len, reverse=True)
            self._wrappable_forms += wrappable_forms(value, inner_only=True)
            pattern = url_pattern(value)
            if pattern is not None:
                self._patterns.append(pattern)

    def text(self, text: str, truncated: bool = False) -> str:
        """`text` with every secret value masked.

        For output cut at the size cap, a tail that could be the start of a value is masked
        too, so truncation never shows the first characters of a secret.
        """
        text = self._mask_forms(text)
        if _may_hold_wrapped_lines(text) and self._split_form_in(text):
            text = _BASE64_LINES.sub(self._joined_masked(_LINE_BREAK), text)
            text = _QUOTED_PRINTABLE_LINES.sub(self._joined_masked(_SOFT_LINE_BREAK), text)
            if self._split_form_in(text):
                # Wrapped some other way: the lines are joined, so nothing of it is shown.
                text = self._mask_forms(_unwrapped(text))
        if truncated:
            text = self._mask_cut_tail(text, sorted(self._values, key=len, reverse=True))
        return text

    def _mask_forms(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        # Whatever URL encoding adds to a value's literal forms is a `%` or a `+`.
        if "%" in text or "+" in text:
            for pattern in self._patterns:
                text = pattern.sub(MASK, text)
        return text

    def _split_form_in(self, text: str) -> bool:
        """Whether a base64 or quoted-printable form of a value is split across line breaks
        in `text` (a quick test: the slower search for the lines only runs when it is)."""
        joined = _unwrapped(text)
        return any(form in joined for form in self._wrappable_forms)

    def _joined_masked(self, line_break: re.Pattern) -> Callable[[re.Match], str]:
        """For `re.sub`: a block of wrapped lines joined (its `line_break`s removed) and masked
        when a form of a value was split across them; else the block as it was."""

        def joined_masked(block: re.Match) -> str:
            joined = line_break.sub("", block.group())
            masked = self._mask_forms(joined)
            return block.group() if masked == joined else masked

        return joined_masked

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
