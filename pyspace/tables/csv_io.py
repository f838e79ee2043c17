"""CSV import (preview, per-row errors, all rows or none) and export of a data table.

The first line names the columns (any subset of the table's, in any order); each cell is read
as its column's type (`columns.parse_text`: empty is no value, dates ISO 8601, simple objects
JSON). Export writes the same format, oldest row first, so an export imports back unchanged
(media columns, which a CSV can't hold, are left out). The zip export (`export_zip`) has every
column, and each media value as a file.
"""

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import DataMedia, DataRow, DataTable
from . import imports
from .columns import (
    MediaValue,
    StoredMedia,
    TableValueError,
    check_value,
    format_text,
    parse_text,
)
from .queries import row_values
from .rows import RowChangeError, add_rows, columns_by_name

EXPORT_BATCH = 1000
PREVIEW_ROWS = 10
YIELD_EVERY_LINES = 500
# The zip export's list of its media files: path → the value's content type and exact name
# (a path holds the name made safe as a file name).
MEDIA_MANIFEST = "media.json"


class ImportRunningError(RowChangeError):
    """Another import into the same widget's tables is still running."""


@dataclass
class CsvPlan:
    """What an import would do: the rows to add, or the errors that stop it."""

    header: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    # (line number, message); any error and nothing is imported.
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def preview(self) -> list[list[str]]:
        """The first rows as the panel shows them (text, as they will be stored)."""
        return [[_shown(row.get(name)) for name in self.header] for row in self.rows[:PREVIEW_ROWS]]


def _shown(value: Any) -> str:
    if isinstance(value, MediaValue):
        return f"{value.name or 'file'} ({value.content_type}, {len(value.data):,} bytes)"
    return "" if value is None else str(value)


def plan_import(
    table: DataTable, text: str, media: Callable[[str], MediaValue] | None = None
) -> CsvPlan:
    """Read `text` as CSV for `table`, checking every cell; nothing is written.

    `media` reads a media cell's text (a zip import: the path of a file in the zip) as its
    value, or raises ValueError; without it a media cell with text is refused."""
    plan = CsvPlan()
    columns = columns_by_name(table)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as error:
        plan.errors.append((1, f"Not valid CSV: {error}"))
        return plan
    if not header or not any(name.strip() for name in header):
        plan.errors.append((1, "The first line must name the columns, like when,city,temp."))
        return plan
    plan.header = [name.strip() for name in header]
    for name in plan.header:
        if name not in columns:
            plan.errors.append((1, f"Table {table.name} has no column {name!r}."))
    if len(set(plan.header)) < len(plan.header):
        plan.errors.append((1, "A column is named twice in the first line."))
    if plan.errors:
        return plan
    types = {name: column.type for name, column in columns.items()}
    try:
        for values in reader:
            _plan_row(table.name, types, plan, reader.line_num, values, media)
            if reader.line_num % YIELD_EVERY_LINES == 0:
                # Reading 100,000 lines is seconds of pure Python: the web server's other
                # threads (a log-in, a Run press) get the interpreter between slices of it.
                time.sleep(0)
    except csv.Error as error:
        plan.errors.append((reader.line_num, f"Not valid CSV: {error}"))
    return plan


def _plan_row(
    table_name: str,
    types: dict[str, str],
    plan: CsvPlan,
    line: int,
    values: list[str],
    media: Callable[[str], MediaValue] | None = None,
) -> None:
    if not any(value.strip() for value in values):
        return  # blank lines are skipped
    if len(values) != len(plan.header):
        plan.errors.append(
            (line, f"{len(values)} values, but the first line names {len(plan.header)} columns.")
        )
        return
    row: dict[str, Any] = {}
    for name, text in zip(plan.header, values, strict=True):
        type_ = types[name]
        try:
            if type_ == "media" and media is not None:
                value: Any = media(text.strip()) if text.strip() else None
            else:
                value = parse_text(type_, text)
            row[name] = check_value(table_name, name, type_, value)
        except (ValueError, TableValueError) as error:
            plan.errors.append((line, f"{name}: {error}"))
            return
    plan.rows.append(row)


def apply_import(table: DataTable, plan: CsvPlan) -> int:
    """Add the planned rows; how many were added. Every value was checked by `plan_import`
    and the quota is counted before the first row is written (a refusal adds nothing); the
    rows then go in short batches (rows.add_rows) that record the import's progress.

    At most one import per widget at a time: a second one gets ImportRunningError."""
    error = imports.claim(table, len(plan.rows))
    if error:
        raise ImportRunningError(error)
    widget_id = table.widget_id
    try:
        return len(
            add_rows(table, plan.rows, on_batch=lambda done: imports.progress(widget_id, done))
        )
    finally:
        imports.release(widget_id)


def export_lines(table: DataTable) -> Iterator[str]:
    """The table as CSV, one line at a time, reading rows in batches (no size limit).

    Columns are read now; the generator holds only plain values, so it can run after the
    view has returned (a streamed response)."""
    # Media columns hold files, which a CSV can't: they are left out (so the file imports back).
    columns = [
        SimpleNamespace(id=c.id, name=c.name, type=c.type)
        for c in table.columns
        if c.type != "media"
    ]
    return _lines(table.id, columns)


def _lines(table_id: int, columns: list, media_paths: bool = False) -> Iterator[str]:
    """CSV lines of the table's rows, oldest first; with `media_paths`, a media cell holds its
    file's path in a zip export (media_path), else its name."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(cells)
        return out.getvalue()

    yield line([column.name for column in columns])
    after = 0
    while True:
        ids = list(
            db.session.scalars(
                select(DataRow.id)
                .where(DataRow.table_id == table_id, DataRow.id > after)
                .order_by(DataRow.id)
                .limit(EXPORT_BATCH)
            )
        )
        if not ids:
            return
        values = row_values(columns, ids)
        for row_id in ids:
            yield line(
                [
                    media_path(row_id, c.name, values[row_id][c.name])
                    if media_paths and c.type == "media" and values[row_id][c.name] is not None
                    else format_text(c.type, values[row_id][c.name])
                    for c in columns
                ]
            )
        after = ids[-1]


def media_path(row_id: int, column: str, media: StoredMedia) -> str:
    """Where a media value's file goes in a zip export: media/<row id>/<column>/<its name>
    (the name made safe as a file name)."""
    name = re.sub(r"[^\w.-]", "_", media.name or "")[:100].lstrip(".") or "file"
    return f"media/{row_id}/{column}/{name}"


class _Sink(io.RawIOBase):
    """A write-only stream a zip is written into, emptied chunk by chunk as the response
    streams (zipfile writes a stream it can't seek with data descriptors)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def export_zip(table: DataTable) -> Iterator[bytes]:
    """The table as a zip, streamed: `<table>.csv` with every column (a media cell holds the
    path of its file in the zip, media_path), each media value as that file, and
    MEDIA_MANIFEST naming each file's content type and exact name (zip_io imports it back).

    Columns are read now (as export_lines does), so the zip can stream after the view returns."""
    columns = [SimpleNamespace(id=c.id, name=c.name, type=c.type) for c in table.columns]
    return _zip_chunks(table.id, table.name, columns)


def _zip_chunks(table_id: int, name: str, columns: list) -> Iterator[bytes]:
    media_columns = [c for c in columns if c.type == "media"]
    manifest: dict[str, dict[str, str | None]] = {}
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{name}.csv", "w") as csv_file:
            for text in _lines(table_id, columns, media_paths=True):
                csv_file.write(text.encode("utf-8"))
                yield sink.drain()
        for column in media_columns:
            cells = db.session.execute(
                select(DataMedia.row_id)
                .where(DataMedia.column_id == column.id)
                .order_by(DataMedia.row_id)
            ).scalars()
            for row_id in list(cells):
                media = row_values([column], [row_id])[row_id][column.name]
                data = db.session.scalar(
                    select(DataMedia.data).where(
                        DataMedia.row_id == row_id, DataMedia.column_id == column.id
                    )
                )
                if media is None or data is None:
                    continue
                path = media_path(row_id, column.name, media)
                archive.writestr(path, data)
                manifest[path] = {"content_type": media.content_type, "name": media.name}
                yield sink.drain()
        archive.writestr(MEDIA_MANIFEST, json.dumps(manifest, indent=1))
    yield sink.drain()
