"""What the Secrets panel lists: a page of rows at a time, with only the columns a row shows.

A widget may hold thousands of secrets. The panel shows them in creation order one page at a
time ("Show more" appends the next page), so opening it costs the same whatever the widget
holds. Rows are plain named tuples: no ORM objects, no ciphertext loaded — a row only knows
whether a value is set, so nothing here can decrypt.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, func

from ..extensions import db
from ..models import Secret

# Everything secrets/_secret_row.html and _row_edit.html read, and nothing more.
ROW_COLUMNS = (
    Secret.id,
    Secret.name,
    Secret.kind,
    Secret.description,
    Secret.required,
    Secret.write_only,
    Secret.short_value,
    Secret.value_changed_at,
    Secret.last_viewed_at,
    Secret.last_used_at,
    Secret.ciphertext.is_(None).label("is_blank"),
)


class PanelRow(NamedTuple):
    """A row the templates read by attribute, one field per ROW_COLUMNS entry, in order.

    A named tuple, not SQLAlchemy's Row: the row macro reads eleven attributes per row, and Row
    answers each through __getattr__ (several times slower)."""

    id: int
    name: str
    kind: str
    description: str
    required: bool
    write_only: bool
    short_value: bool
    value_changed_at: datetime | None
    last_viewed_at: datetime | None
    last_used_at: datetime | None
    is_blank: bool


@dataclass(frozen=True)
class MoreRows:
    """A "Show more" control: `count` secrets after secret id `after` (and before `before`)."""

    after: int
    before: int | None
    count: int


@dataclass(frozen=True)
class RowBlock:
    """Consecutive rows of the panel, and the control that shows the hidden ones after them."""

    rows: list
    more: MoreRows | None


def page_size() -> int:
    """How many rows the panel (and each "Show more") renders: `SECRETS_PAGE_SIZE`."""
    return current_app.config["SECRETS_PAGE_SIZE"]


def _in_range(query, bounded: bool):
    # Secrets of :widget_id after id :after — and, if `bounded`, before id :before.
    query = query.where(Secret.widget_id == bindparam("widget_id"), Secret.id > bindparam("after"))
    return query.where(Secret.id < bindparam("before")) if bounded else query


# Built once and reused with new parameters (keyed by "bounded"): the panel runs them on every
# request, and SQLAlchemy then neither rebuilds them nor recomputes their cache keys.
ROWS = {
    bounded: _in_range(db.select(*ROW_COLUMNS), bounded)
    .order_by(Secret.id)
    .limit(bindparam("size"))
    for bounded in (False, True)
}
COUNT = {
    bounded: _in_range(db.select(func.count()).select_from(Secret), bounded)
    for bounded in (False, True)
}
ONE_ROW = db.select(*ROW_COLUMNS).where(
    Secret.widget_id == bindparam("widget_id"), Secret.id == bindparam("secret_id")
)


def _execute(query, **parameters):
    # Plain column queries need none of the ORM's result handling: run them on the session's
    # connection (same transaction), which is measurably cheaper per row.
    return db.session.connection().execute(query, parameters)


def _range(widget_id: str, after: int, before: int | None) -> dict:
    bounds = {"widget_id": widget_id, "after": after}
    return bounds if before is None else {**bounds, "before": before}


def count_secrets(widget_id: str, after: int = 0, before: int | None = None) -> int:
    """How many secrets `widget_id` has (with an id between `after` and `before`, exclusive)."""
    return _execute(COUNT[before is not None], **_range(widget_id, after, before)).scalar()


def _rows(query, **parameters) -> list[PanelRow]:
    return [PanelRow._make(row) for row in _execute(query, **parameters).all()]


def rows_after(
    widget_id: str, after: int = 0, before: int | None = None, in_range: int | None = None
) -> RowBlock:
    """The next page of rows after secret id `after` (stopping before `before`), in creation
    order, with a "Show more" control when secrets remain in that range. `in_range` is how many
    secrets the range holds, when the caller has counted them already."""
    size = page_size()
    rows = _rows(ROWS[before is not None], **_range(widget_id, after, before), size=size)
    more = None
    if len(rows) == size:
        last = rows[-1].id
        remaining = (
            in_range - size if in_range is not None else count_secrets(widget_id, last, before)
        )
        more = MoreRows(last, before, remaining) if remaining else None
    return RowBlock(rows, more)


def panel_blocks(
    widget_id: str, total: int, after: int = 0, focus_id: int | None = None
) -> list[RowBlock]:
    """The panel's rows (`total` is the widget's count of secrets): the page after `after`,
    and — when the secret `focus_id` (one just created, or the one a browser without JavaScript
    is working on) lies beyond that page — that secret's row too, with "Show more" controls
    for the rows in between and after it."""
    first = rows_after(widget_id, after, in_range=None if after else total)
    if first.more is None or focus_id is None or focus_id <= first.more.after:
        return [first]
    focused = _rows(ONE_ROW, widget_id=widget_id, secret_id=focus_id)
    if not focused:
        return [first]
    gap = count_secrets(widget_id, first.more.after, focus_id)
    tail = count_secrets(widget_id, focus_id)
    return [
        RowBlock(first.rows, MoreRows(first.more.after, focus_id, gap) if gap else None),
        RowBlock(focused, MoreRows(focus_id, None, tail) if tail else None),
    ]
