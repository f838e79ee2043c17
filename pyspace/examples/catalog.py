"""The examples, defined as data: one folder per example under pyspace/examples/.

A folder holds `manifest.json` (slug, title, summary, kind, and the secrets, tables and
schedules the widget needs), `server_code.py`, and for GUI widgets `client_code.py` and
`page.html`. The code files are the widget's code as the user gets it: they are read, never
imported here.
"""

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent
# Gallery order: the first is the one the docs' tutorial uses.
ORDER = ("weather_logger",)


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    summary: str
    kind: str
    server_code: str
    client_code: str = ""
    html: str = ""
    teaches: tuple[str, ...] = ()
    # [{"name", "description", "required"}]: created blank.
    secrets: tuple[dict, ...] = ()
    # [{"name", "columns": [{"name", "type"}]}]: created empty.
    tables: tuple[dict, ...] = ()
    # [{"function", "every", "enabled", "why_disabled"}]: see examples.setup.create_schedules.
    schedules: tuple[dict, ...] = field(default_factory=tuple)


def _read(folder: Path, name: str) -> str:
    path = folder / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _load(folder: Path) -> Example:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return Example(
        slug=manifest["slug"],
        title=manifest["title"],
        summary=manifest["summary"],
        kind=manifest.get("kind", "script"),
        server_code=_read(folder, "server_code.py"),
        client_code=_read(folder, "client_code.py"),
        html=_read(folder, "page.html"),
        teaches=tuple(manifest.get("teaches", ())),
        secrets=tuple(manifest.get("secrets", ())),
        tables=tuple(manifest.get("tables", ())),
        schedules=tuple(manifest.get("schedules", ())),
    )


@cache
def all_examples() -> tuple[Example, ...]:
    """Every example, in gallery order (read from disk once)."""
    return tuple(_load(EXAMPLES_DIR / folder) for folder in ORDER)


def example_by_slug(slug: str) -> Example | None:
    return next((example for example in all_examples() if example.slug == slug), None)
