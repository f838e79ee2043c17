"""Reading and writing `.env` files for the Secrets panel's import and export.

The format is the common one: `NAME=value` per line, `#` comments and blank lines ignored, an
optional `export ` prefix; a value is bare (surrounding spaces and a ` # comment` dropped),
'single-quoted' (taken literally) or "double-quoted" (with \\n, \\t, \\" and \\\\ escapes); quoted
values may span lines, so a PEM key fits. Errors name the line and never quote a value.
"""
import re
from dataclasses import dataclass

from .models import Secret

ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([^=\s]*)\s*=\s*(.*)$", re.DOTALL)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass
class Entry:
    line: int
    name: str
    value: str


@dataclass
class LineError:
    line: int
    message: str


def parse_dotenv(text: str) -> tuple[list[Entry], list[LineError]]:
    """The entries of a .env file and the errors of its bad lines (both by line number)."""
    entries, errors, seen = [], [], {}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = ASSIGNMENT.match(line)
        if not match:
            errors.append(LineError(number, "Expected NAME=value."))
            continue
        name, rest = match.groups()
        if rest[:1] in ("'", '"'):
            quote = rest[0]
            body = rest[1:]
            # A quoted value may continue on the next lines until its closing quote.
            while _closing_quote(body, quote) is None and index < len(lines):
                body += "\n" + lines[index]
                index += 1
            end = _closing_quote(body, quote)
            if end is None:
                errors.append(LineError(number, f"The value's {quote} quote is never closed."))
                continue
            trailing = body[end + 1:].strip()
            if trailing and not trailing.startswith("#"):
                errors.append(LineError(number, "Unexpected text after the closing quote."))
                continue
            value = body[:end] if quote == "'" else _unescape(body[:end])
        else:
            value = re.split(r"\s+#", rest, maxsplit=1)[0].strip()
        problem = Secret.name_error(name) or Secret.value_error(value)
        if problem:
            errors.append(LineError(number, f"{name or 'The name'}: {problem}" if name else problem))
        elif name in seen:
            errors.append(LineError(number, f"{name} is already set on line {seen[name]}."))
        else:
            seen[name] = number
            entries.append(Entry(number, name, value))
    return entries, errors


def _closing_quote(body: str, quote: str) -> int | None:
    position = 0
    while position < len(body):
        char = body[position]
        if quote == '"' and char == "\\":
            position += 2
            continue
        if char == quote:
            return position
        position += 1
    return None


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), "\\" + m.group(1)), text, flags=re.DOTALL)


def quote_value(value: str) -> str:
    """`value` written so that `parse_dotenv` reads it back exactly."""
    if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def dotenv_line(name: str, value: str, description: str = "", required: bool = False) -> str:
    """One secret as .env text, its description (and whether it is required) as a comment above."""
    comments = []
    if description or required:
        text = " ".join(description.split())
        comments.append(f"# {text}{' (required)' if required else ''}".rstrip() if text else "# (required)")
    return "\n".join([*comments, f"{name}={quote_value(value)}"])
