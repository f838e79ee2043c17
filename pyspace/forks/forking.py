"""Forking: a copy of a widget with everything but its secret values and keys.

A fork copies the widget's contents and its secrets' names (in order, with their descriptions
and flags) — never a ciphertext, a timestamp of the original's secret use, or an audit row.
Nothing is decrypted: the values never leave the original. Encryption keys are copied the same
way, as names with no key material: the fork's owner presses Generate key for a new key, which
can't read what the original's key encrypted (by design).
"""

from dataclasses import dataclass

from sqlalchemy import Row, func, insert
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Schedule, Secret, User, Widget, new_widget_id, utcnow

# What a fork takes from each of the original's secrets. An allow-list on purpose: a column
# added to Secret later stays behind in the original until someone decides it is safe to copy.
COPIED_SECRET_COLUMNS = ("name", "kind", "description", "required", "write_only")
COPIED_WIDGET_FIELDS = ("title", "description", "kind", "server_code", "client_code", "html")
# A fork's schedules start disabled: they would run on secrets the forker hasn't set yet, and
# the forker decides when their copy starts running on its own.
COPIED_SCHEDULE_COLUMNS = ("task_name", "every", "n", "at_hour", "at_minute", "weekday")


def fork_widget(original: Widget, new_owner: User) -> Widget:
    """Copy `original` for `new_owner` as a private widget with blank secrets; commit and return it.

    One transaction of three statements whatever the number of secrets: read the names,
    insert the widget, insert all the blank secrets at once.
    """
    rows = (
        db.session.execute(
            db.select(*(getattr(Secret, column) for column in COPIED_SECRET_COLUMNS))
            .filter_by(widget_id=original.id)
            .order_by(Secret.id)
        )
        .mappings()
        .all()
    )
    schedule_rows = (
        db.session.execute(
            db.select(*(getattr(Schedule, column) for column in COPIED_SCHEDULE_COLUMNS))
            .filter_by(widget_id=original.id)
            .order_by(Schedule.id)
        )
        .mappings()
        .all()
    )
    fork = Widget(
        id=new_widget_id(),
        owner_id=new_owner.id,
        visibility="private",
        forked_from_id=original.id,
        forked_from_title=original.title,
        forked_from_owner=original.owner.username,
        **{field: getattr(original, field) for field in COPIED_WIDGET_FIELDS},
    )
    try:
        db.session.add(fork)
        db.session.flush()  # the secrets' foreign key needs the widget row first
        if rows:
            # Ids are assigned in row order, so the fork lists its secrets in the original's order.
            db.session.execute(insert(Secret), [{**row, "widget_id": fork.id} for row in rows])
        if schedule_rows:
            copied = {"widget_id": fork.id, "enabled": False, "next_run_at": None}
            db.session.execute(
                insert(Schedule),
                [
                    {**row, **copied, "created_at": utcnow(), "failure_streak": 0}
                    for row in schedule_rows
                ],
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return fork


def disabled_schedule_count(widget_id: str) -> int:
    """How many of the widget's schedules are disabled (a fork's copies start so)."""
    return db.session.scalar(
        db.select(func.count()).select_from(Schedule).filter_by(widget_id=widget_id, enabled=False)
    )


def fork_count(widget_id: str) -> int:
    """How many widgets were forked from this one (private forks included; it is only a number)."""
    return db.session.scalar(
        db.select(func.count()).select_from(Widget).filter_by(forked_from_id=widget_id)
    )


def blank_secrets(widget_id: str) -> list[Row]:
    """The widget's secrets that have no value yet (and keys with no key) — name, kind,
    description, required — as a checklist: required ones first, then in the panel's order.
    Reads no ciphertext."""
    return list(
        db.session.execute(
            db.select(Secret.name, Secret.kind, Secret.description, Secret.required)
            .filter_by(widget_id=widget_id, ciphertext=None)
            .order_by(Secret.required.desc(), Secret.id)
        ).all()
    )


def visible_original(fork: Widget, viewer) -> Widget | None:
    """The widget `fork` was copied from, if it still exists and `viewer` may see it."""
    if not fork.forked_from_id:
        return None
    original = db.session.get(Widget, fork.forked_from_id, options=[joinedload(Widget.owner)])
    if original is None or not original.is_visible_to(viewer):
        return None
    return original


@dataclass
class Lineage:
    """What a widget's page says about where it came from and how often it was forked."""

    is_fork: bool
    forked_from_title: str | None  # as it was when forked: the original may be gone since
    forked_from_owner: str | None
    original: Widget | None  # None when the original is gone or the viewer may not see it
    original_owner: str | None
    times_forked: int


def lineage_of(widget: Widget, viewer) -> Lineage:
    """The lineage line of `widget`'s page as `viewer` may see it (widgets.show passes it in)."""
    original = visible_original(widget, viewer)
    return Lineage(
        is_fork=widget.forked_from_id is not None,
        forked_from_title=widget.forked_from_title,
        forked_from_owner=widget.forked_from_owner,
        original=original,
        original_owner=original.owner.username if original else None,
        times_forked=fork_count(widget.id),
    )
