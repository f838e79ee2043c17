"""Leak warnings: saved code that holds a secret's value, or something that looks like a credential.

Checking decrypts nothing. Each secret keeps a keyed fingerprint of its value (vault.fingerprint,
made when the value is set); the code's string literals and tokens are fingerprinted the same way
and compared. So the editor can run the check on every render without a single decryption, and
someone holding the database learns nothing from the fingerprints without the key.

Limits, on purpose: values shorter than MIN_VALUE_LENGTH characters are not looked for (a secret
"1" would match every line); a value is found when it is a whole string literal, a whole token,
or a piece of one between URL/assignment punctuation — not an arbitrary substring.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Secret, Widget
from . import vault

MIN_VALUE_LENGTH = 6
CODE_FIELDS = (("server_code", "Server code"), ("client_code", "Client code"), ("html", "HTML"))
STRING_LITERAL = re.compile(r"""(?P<quote>["'`])(?P<body>(?:\\.|(?!(?P=quote)).)*)(?P=quote)""")
TOKEN_SEPARATORS = re.compile(r"""[\s'"`]+""")
PIECE_SEPARATORS = re.compile(r"[=&?/:,;()\[\]{}<>]+")
CREDENTIALS = (
    ("an AWS access key", "aws_access_key_id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "a GitHub token",
        "github_token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    ),
    ("a Slack token", "slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a private key", "private_key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
)
# A long, random-looking string literal assigned to a name like api_key, auth_token, password.
ASSIGNED_SECRET = re.compile(
    r"""(?P<name>\b[A-Za-z_]*(?:key|token|secret|password|passwd|pwd)[A-Za-z0-9_]*)["']?\s*[:=]\s*"""
    r"""(?P<quote>["'])(?P<value>[^"'\s]{16,})(?P=quote)""",
    re.IGNORECASE,
)
MIN_ENTROPY_BITS = 3.5
# The fingerprints (and names) of a widget's secrets, without loading the secrets themselves
# (ciphertext, history…): the editor checks its code on every render. Built once: see
# widgets/listing.py. In the order of `widget.secrets`, so of two secrets holding one value
# the warning names the same one as before.
_FINGERPRINTS = (
    select(Secret.fingerprint, Secret.name)
    .where(Secret.widget_id == bindparam("widget_id"), Secret.fingerprint.is_not(None))
    .order_by(Secret.id)
)


@dataclass
class LeakWarning:
    field: str  # "server_code" (the first module), "module:<name>", "client_code" or "html"
    field_label: str
    line: int
    message: str
    secret_name: str  # the secret to read it from (existing, or suggested)
    literal: str | None  # the quoted literal to replace when moving it to a secret

    @property
    def can_move(self) -> bool:
        """One-click "move to a secret" works in server code, for a quoted value on one line."""
        return self.field == "server_code" and self.literal is not None


def leak_warnings(widget: Widget) -> list[LeakWarning]:
    """Warnings for the widget's saved code, line by line (decrypts nothing)."""
    # Every server module: the first is the field "server_code" (where a value can be moved to a
    # secret in one click); the others are "module:<name>", still server code.
    several = len(widget.modules) > 1
    sources = [
        (
            "server_code" if i == 0 else f"module:{m.name}",
            f"Server module {m.name}" if several else "Server code",
            m.code,
        )
        for i, m in enumerate(widget.modules)
    ]
    sources += [(f, label, getattr(widget, f)) for f, label in CODE_FIELDS[1:] if widget.is_gui]
    lines = [
        (f, label, number, text)
        for f, label, code in sources
        for number, text in enumerate((code or "").split("\n"), start=1)
    ]
    known = dict(db.session.execute(_FINGERPRINTS, {"widget_id": widget.id}).tuples().all())
    candidates = [_candidates(text) for _f, _label, _number, text in lines]
    # One pass over the keys for the whole code: which candidate texts are some secret's value.
    leaked = {}
    if known:
        every_text = set().union(*candidates) if candidates else set()
        leaked = {
            text: known[digest]
            for digest, text in vault.fingerprints_of(every_text).items()
            if digest in known
        }
    warnings = []
    for (f, label, number, text), found in zip(lines, candidates, strict=True):
        warning = _value_warning(f, label, number, found, leaked)
        warnings.append(warning or _credential_warning(f, label, number, text))
    return [warning for warning in warnings if warning]


def _candidates(line: str) -> dict[str, str | None]:
    """Texts in `line` that could be a whole value, each with the quoted literal it came from."""
    found: dict[str, str | None] = {}
    for match in STRING_LITERAL.finditer(line):
        found.setdefault(match.group("body"), match.group(0))
    for token in TOKEN_SEPARATORS.split(line):
        found.setdefault(token, None)
        for piece in PIECE_SEPARATORS.split(token):
            found.setdefault(piece, None)
    found.setdefault(line.strip(), None)
    return {text: literal for text, literal in found.items() if len(text) >= MIN_VALUE_LENGTH}


def _value_warning(f, label, number, found: dict[str, str | None], leaked: dict[str, str]):
    for candidate, literal in found.items():
        if candidate in leaked:
            name = leaked[candidate]
            return LeakWarning(
                f,
                label,
                number,
                f"Line {number} of the {label.lower()} contains the value of the secret {name}.",
                name,
                literal,
            )
    return None


def _credential_warning(f, label, number, text) -> LeakWarning | None:
    for description, suggested, pattern in CREDENTIALS:
        match = pattern.search(text)
        if match:
            literal = _enclosing_literal(text, match.start(), match.end())
            return LeakWarning(
                f,
                label,
                number,
                f"Line {number} of the {label.lower()} looks like it holds {description}.",
                suggested,
                literal,
            )
    for match in ASSIGNED_SECRET.finditer(text):
        if _looks_random(match.group("value")):
            name = match.group("name").lower()
            return LeakWarning(
                f,
                label,
                number,
                f"Line {number} of the {label.lower()} assigns what looks like a real "
                f"secret to {match.group('name')}.",
                name,
                match.group("quote") + match.group("value") + match.group("quote"),
            )
    return None


def _enclosing_literal(text: str, start: int, end: int) -> str | None:
    for match in STRING_LITERAL.finditer(text):
        if match.start() < start and end < match.end():
            return match.group(0)
    return None


def _looks_random(text: str) -> bool:
    # Real keys mix letters and digits and are dense in information; URLs and words are not.
    if "://" in text or not re.search(r"[0-9]", text) or not re.search(r"[A-Za-z]", text):
        return False
    counts = Counter(text)
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return entropy >= MIN_ENTROPY_BITS


def literal_value(literal: str) -> str:
    """The text inside a quoted literal found by the check (quotes dropped, simple escapes
    undone)."""
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)
