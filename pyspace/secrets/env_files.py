"""Reading and writing `.env` files for the Secrets panel's import and export.

Parsing is python-dotenv's (`NAME=value`, `#` comments, `export `, 'literal' and "escaped"
quoting, quoted values across lines so a PEM key fits); on top of it every line is checked
against the secrets' own rules. Errors name the line and never quote a value.
"""

import io
import re
from dataclasses import dataclass

from dotenv.parser import parse_stream

from ..models import Secret


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
    entries: list[Entry] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for binding in parse_stream(io.StringIO(text)):
        number, name, value = binding.original.line, binding.key, binding.value
        if binding.error or (name is not None and value is None):
            errors.append(LineError(number, _why_unparsable(binding.original.string)))
            continue
        if name is None or value is None:  # a comment or a blank line
            continue
        problem = Secret.name_error(name) or Secret.value_error(value)
        if problem:
            errors.append(LineError(number, f"{name}: {problem}"))
        elif name in seen:
            errors.append(LineError(number, f"{name} is already set on line {seen[name]}."))
        else:
            seen[name] = number
            entries.append(Entry(number, name, value))
    return entries, errors


def _why_unparsable(line: str) -> str:
    """A clear reason for a line python-dotenv could not read (it only says "error")."""
    name, equals, rest = line.strip().partition("=")
    if not equals:
        return "Expected NAME=value."
    if not name.strip() or name.strip() == "export":
        return Secret.name_error("") or "A name is required."
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        if re.search(r"(?<!\\)" + rest[0], rest[1:]) is None:
            return f"The value's {rest[0]} quote is never closed."
        return "Unexpected text after the closing quote."
    return "Expected NAME=value."


def quote_value(value: str) -> str:
    """`value` written so that `parse_dotenv` reads it back exactly."""
    if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value):
        return value
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def comment_line(text: str) -> str:
    """`text` as one `# …` comment line, whatever it holds: every run of whitespace — newlines,
    carriage returns, Unicode line and paragraph separators — becomes one space, and other
    control characters go, so a title or description can never start a line of its own."""
    printable = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text)
    return f"# {' '.join(printable.split())}".rstrip()


def dotenv_line(name: str, value: str, description: str = "", required: bool = False) -> str:
    """One secret as .env text, its description (and whether it is required) as a comment above."""
    comments = []
    if description or required:
        comments.append(comment_line(f"{description}{' (required)' if required else ''}"))
    return "\n".join([*comments, f"{name}={quote_value(value)}"])
