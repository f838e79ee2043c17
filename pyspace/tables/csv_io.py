"""CSV import (preview, per-row errors, all rows or none) and export of a data table.

The first line names the columns (any subset of the table's, in any order); each cell is read
as its column's type (`columns.parse_text`: empty is no value, dates ISO 8601, simple objects
JSON). Export writes the same format, oldest row first, so an export imports back unchanged.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import DataRow, DataTable
from . import imports
from .columns import TableValueError, check_value, format_text, parse_text
from .queries import row_values
from .rows import RowChangeError, add_rows, columns_by_name

EXPORT_BATCH = 1000
PREVIEW_ROWS = 10


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
    return "" if value is None else str(value)


def plan_import(table: DataTable, text: str) -> CsvPlan:
    """Read `text` as CSV for `table`, checking every cell; nothing is written."""
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
    try:
        for values in reader:
            _plan_row(table, columns, plan, reader.line_num, values)
    except csv.Error as error:
        plan.errors.append((reader.line_num, f"Not valid CSV: {error}"))
    return plan


def _plan_row(table, columns, plan: CsvPlan, line: int, values: list[str]) -> None:
    if not any(value.strip() for value in values):
        return  # blank lines are skipped
    if len(values) != len(plan.header):
        plan.errors.append(
            (line, f"{len(values)} values, but the first line names {len(plan.header)} columns.")
        )
        return
    row: dict[str, Any] = {}
    for name, text in zip(plan.header, values, strict=True):
        column = columns[name]
        try:
            row[name] = check_value(table.name, name, column.type, parse_text(column.type, text))
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


def _lines(table_id: int, columns: list) -> Iterator[str]:
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
            yield line([format_text(c.type, values[row_id][c.name]) for c in columns])
        after = ids[-1]
