"""Redaction of encoded forms: a value escaped by `repr()`, JSON, HTML, URL encoding (any safe
set), base64 (also line-wrapped, also of Latin-1 bytes), quoted-printable or hex is masked like
the value itself, and short values are flagged."""

import base64
import binascii
import html
import json
import quopri
import re
import textwrap
from urllib.parse import quote, quote_plus, urlencode

import pytest

from pyspace.extensions import db
from pyspace.models import Secret
from pyspace.sandbox.redaction import MASK, WITHHELD, Redactor
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret, run_json

# A trailing newline, a quote and non-ASCII: every escaping rule changes it.
VALUE = "sk-live-4f9a'é/+=\n"
ENCODINGS = {
    "repr": repr,
    "ascii": ascii,
    "repr-of-bytes": lambda v: repr(v.encode()),
    "json": json.dumps,
    "json-unicode": lambda v: json.dumps(v, ensure_ascii=False),
    "quote": quote,
    "quote-nothing-safe": lambda v: quote(v, safe=""),
    "quote_plus": quote_plus,
    "base64": lambda v: base64.b64encode(v.encode()).decode(),
    "base64-unpadded": lambda v: base64.b64encode(v.encode()).decode().rstrip("="),
    "base64-urlsafe": lambda v: base64.urlsafe_b64encode(v.encode()).decode(),
    "base64-urlsafe-unpadded": lambda v: base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
    "hex": lambda v: v.encode().hex(),
    "HEX": lambda v: v.encode().hex().upper(),
}


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encoded_value_is_masked(encoding):
    redactor = Redactor()
    redactor.add(VALUE)
    encoded = ENCODINGS[encoding](VALUE)
    masked = redactor.text(f"header: {encoded} end")
    assert encoded not in masked and MASK in masked


@pytest.mark.parametrize("prefix", ["", "B", "Be", "Bearer "])
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_value_base64_encoded_inside_a_longer_text_is_masked_at_any_alignment(prefix, encode):
    redactor = Redactor()
    redactor.add(VALUE)
    encoded = encode((prefix + VALUE + " tail").encode()).decode()
    masked = redactor.text(encoded)
    assert MASK in masked
    # What is left can't be decoded back to the value.
    assert len(masked.replace(MASK, "")) < len(encoded) - len(VALUE)


def test_short_values_are_still_masked_in_every_form():
    redactor = Redactor()
    redactor.add("42x")
    for encode in ENCODINGS.values():
        assert MASK in redactor.text(f"<{encode('42x')}>")


@pytest.fixture
def header_widget(app, alice):
    """A key with a trailing newline put in an HTTP header: the error names the header's value
    by repr()."""
    code = (
        "import anvil.secrets, base64\n"
        "token = anvil.secrets.get_secret('api_key')\n"
        "print(base64.b64encode(token.encode()).decode(), token.encode().hex())\n"
        "raise ValueError(f'Invalid leading whitespace in header value {\"Bearer \" + token!r}')\n"
    )
    widget_id = alice.create_widget("Weather", visibility="public", server_code=code)
    add_secret(app, widget_id, "api_key", VALUE)
    return widget_id


def test_repr_escaped_value_in_an_error_is_masked_for_the_owner(alice, header_widget):
    answer = run_json(alice, header_widget)
    # The value holds a quote mark, so repr() wrote the text with double quotes.
    assert answer["error"]["message"] == 'Invalid leading whitespace in header value "Bearer ***"'
    assert answer["stdout"] == "*** ***\n"
    assert "sk-live" not in json.dumps(answer) and repr(VALUE)[1:-1] not in json.dumps(answer)


def test_repr_escaped_value_in_an_error_is_withheld_from_an_anonymous_visitor(
    make_client, header_widget
):
    answer = run_json(make_client(), header_widget)
    assert answer["error"]["message"] == WITHHELD and answer["stdout"] == WITHHELD
    assert answer["error"]["traceback"] == WITHHELD
    assert "sk-live" not in json.dumps(answer)


def test_panel_warns_next_to_a_value_too_short_to_protect(app, alice):
    widget_id = alice.create_widget("Lock")
    for _ in range(2):
        alice.post(f"/widgets/{widget_id}/secrets")
    with app.app_context():
        ids = db.session.scalars(db.select(Secret.id).filter_by(widget_id=widget_id)).all()
    for secret_id, value in zip(ids, ("123", "long-enough-value"), strict=True):
        response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": value})
        assert response.status_code in (200, 302)
    html = alice.client.get(f"/widgets/{widget_id}/secrets").get_data(as_text=True)
    short_row = html[html.index(f'id="secret-{ids[0]}"') : html.index(f'id="secret-{ids[1]}"')]
    long_row = html[html.index(f'id="secret-{ids[1]}"') :]
    assert "redaction can't protect it" in short_row
    assert "redaction can't protect it" not in long_row
    assert "123" not in short_row.replace(str(ids[0]), "")


# Secrets with spaces, both quote marks, the characters URL, HTML and quoted-printable
# encodings escape, and non-ASCII (Latin-1 and beyond).
CORPUS = [
    "pass word with spaces",
    'it\'s "quoted"',
    "a&b<c>d=e+f/g?h#i%j",
    "pässwörd-é",
    "naïve café=+&/ 'x' €",
    "tab\tand\nnewline",
]
FILLER = b"The quick brown fox jumps over the lazy dog. "


def _basic_auth(value: str) -> str:
    # As `requests` builds an Authorization header: "user:password" in Latin-1, base64.
    return "Basic " + base64.b64encode(b"user:" + value.encode("latin-1")).decode()


ACCIDENTAL_ENCODINGS = {
    # Line-wrapped every 76 characters, the value somewhere in the middle of a longer text.
    "base64.encodebytes": lambda v: base64.encodebytes(FILLER + v.encode() + FILLER).decode(),
    "base64 PEM lines": lambda v: "\n".join(
        textwrap.wrap(base64.b64encode(FILLER[:20] + v.encode()).decode(), 64)
    ),
    "html.escape": html.escape,
    "html.escape without quotes": lambda v: html.escape(v, quote=False),
    "quoted-printable": lambda v: quopri.encodestring(v.encode()).decode(),
    "quoted-printable with soft line breaks": lambda v: quopri.encodestring(
        FILLER + v.encode()
    ).decode(),
    "quoted-printable binary": lambda v: binascii.b2a_qp(v.encode(), istext=False).decode(),
    "repr of utf-16-le": lambda v: repr(v.encode("utf-16-le")),
    "repr of utf-16-be": lambda v: repr(v.encode("utf-16-be")),
    "quote with safe characters": lambda v: quote(v, safe="/:=+&"),
    "urlencode query": lambda v: "https://api.test/v1?" + urlencode({"key": v, "page": 2}),
    "lower-case hex escapes": lambda v: re.sub(
        "%[0-9A-F]{2}", lambda m: m.group().lower(), quote(v, safe="")
    ),
}


@pytest.mark.parametrize("value", CORPUS)
@pytest.mark.parametrize("encoding", ACCIDENTAL_ENCODINGS)
def test_value_encoded_by_accident_is_masked(value, encoding):
    redactor = Redactor()
    redactor.add(value)
    encoded = ACCIDENTAL_ENCODINGS[encoding](value)
    masked = redactor.text(f"got: {encoded} (done)")
    assert encoded not in masked and MASK in masked, masked


LATIN1_ENCODINGS = {
    "basic auth": _basic_auth,
    "quote in latin-1": lambda v: quote(v, encoding="latin-1"),
}


@pytest.mark.parametrize("value", [v for v in CORPUS if "€" not in v])
@pytest.mark.parametrize("encoding", LATIN1_ENCODINGS)
def test_value_encoded_as_latin1_is_masked(value, encoding):
    redactor = Redactor()
    redactor.add(value)
    encoded = LATIN1_ENCODINGS[encoding](value)
    masked = redactor.text(f"Authorization: {encoded}")
    assert encoded not in masked and MASK in masked


def test_masking_keeps_text_without_a_value_unchanged():
    redactor = Redactor()
    for value in CORPUS:
        redactor.add(value)
    text = "plain output\n" + base64.encodebytes(FILLER * 5).decode() + "a+b=c&d%20e\n"
    assert redactor.text(text) == text


@pytest.fixture
def requests_widget(app, alice):
    """Code that hands the value to `requests` and prints what requests made of it."""
    code = (
        "import anvil.secrets, requests\n"
        "key = anvil.secrets.get_secret('api_key')\n"
        "url = requests.Request('GET', 'https://api.test/v1', params={'key': key}).prepare().url\n"
        "raw = requests.Request('GET', f'https://api.test/v1?key={key}').prepare().url\n"
        "auth = requests.Request('GET', 'https://api.test/', auth=('me', key)).prepare()\n"
        "print(url)\n"
        "print(raw)\n"
        "print(auth.headers['Authorization'])\n"
    )
    widget_id = alice.create_widget("Requests", visibility="public", server_code=code)
    add_secret(app, widget_id, "api_key", LATIN1_VALUE)
    return widget_id


LATIN1_VALUE = 'clé secrète=+&/ "x"'


def test_value_in_a_url_and_basic_auth_made_by_requests_is_masked(alice, requests_widget):
    answer = run_json(alice, requests_widget)
    assert answer["error"] is None, answer
    lines = answer["stdout"].splitlines()
    assert lines[0] == "https://api.test/v1?key=***"
    assert lines[1] == "https://api.test/v1?key=***"
    # "me:" is the only whole base64 group left.
    assert lines[2] == "Basic bWU6***"
