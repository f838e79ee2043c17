"""Forking: a copy of a widget with everything but its secret values, keys and data.

A fork copies the widget's contents and its secrets' names (in order, with their descriptions
and flags) — never a ciphertext, a timestamp of the original's secret use, or an audit row.
Nothing is decrypted: the values never leave the original. Encryption keys are copied the same
way, as names with no key material: the fork's owner presses Generate key for a new key, which
can't read what the original's key encrypted (by design). Schedules come disabled. Data tables
come with their columns but **no rows**: rows may be private data (see `copy_table_structure`).
"""

from dataclasses import dataclass

from sqlalchemy import Row, bindparam, func, insert, literal, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    DataColumn,
    DataTable,
    Schedule,
    Secret,
    ServerModule,
    User,
    Widget,
    new_widget_id,
    utcnow,
)

# What a fork takes from each of the original's secrets. An allow-list on purpose: a column
# added to Secret later stays behind in the original until someone decides it is safe to copy.
COPIED_SECRET_COLUMNS = ("name", "kind", "description", "required", "write_only")
COPIED_WIDGET_FIELDS = ("title", "description", "kind", "client_code", "html", "client_python")
# A fork's schedules start disabled: they would run on secrets the forker hasn't set yet, and
# the forker decides when their copy starts running on its own.
COPIED_SCHEDULE_COLUMNS = ("task_name", "every", "n", "at_hour", "at_minute", "weekday")


def fork_widget(original: Widget, new_owner: User) -> Widget:
    """Copy `original` for `new_owner` as a private widget with blank secrets; commit and return it.

    One transaction of five statements whatever the number of secrets and tables: read the
    names, insert the widget, insert all the blank secrets at once, then the empty tables and
    their columns (two INSERT … SELECT).
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
    # Every server module, under its own name and in its order.
    fork.modules = [
        ServerModule(name=module.name, code=module.code, position=module.position)
        for module in original.modules
    ]
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
        copy_table_structure(original.id, fork.id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return fork


def schedule_count(widget_id: str) -> int:
    """How many schedules the widget has (a fork copies each, disabled)."""
    return db.session.scalar(
        db.select(func.count()).select_from(Schedule).filter_by(widget_id=widget_id)
    )


def disabled_schedule_count(widget_id: str) -> int:
    """How many of the widget's schedules are disabled (a fork's copies start so)."""
    return db.session.scalar(
        db.select(func.count()).select_from(Schedule).filter_by(widget_id=widget_id, enabled=False)
    )


def copy_table_structure(from_widget_id: str, to_widget_id: str) -> None:
    """Give `to_widget_id` tables and columns like `from_widget_id`'s, empty: no row is read.

    Two INSERT … SELECT statements whatever the number of tables and columns; part of the
    caller's transaction (no commit). A link column links to the fork's table of the same
    name, never to the original's."""
    old = db.aliased(DataTable)
    new = db.aliased(DataTable)
    old_target = db.aliased(DataTable)
    new_target = db.aliased(DataTable)
    db.session.execute(
        insert(DataTable).from_select(
            [
                "widget_id",
                "name",
                "row_count",
                "byte_count",
                "created_at",
                "client_access",
                "is_users",
            ],
            db.select(
                literal(to_widget_id),
                old.name,
                literal(0),
                literal(0),
                literal(utcnow()),
                old.client_access,
                old.is_users,
            )
            .where(old.widget_id == from_widget_id)
            .order_by(old.id),
        )
    )
    db.session.execute(
        insert(DataColumn).from_select(
            ["table_id", "name", "type", "link_table_id"],
            db.select(new.id, DataColumn.name, DataColumn.type, new_target.id)
            .join(old, old.id == DataColumn.table_id)
            .join(new, (new.widget_id == to_widget_id) & (new.name == old.name))
            .outerjoin(old_target, old_target.id == DataColumn.link_table_id)
            .outerjoin(
                new_target,
                (new_target.widget_id == to_widget_id) & (new_target.name == old_target.name),
            )
            .where(old.widget_id == from_widget_id)
            .order_by(DataColumn.id),
        )
    )


def table_names(widget_id: str) -> list[str]:
    """The names of the widget's data tables (for the fork's checklist)."""
    return list(
        db.session.scalars(
            db.select(DataTable.name).filter_by(widget_id=widget_id).order_by(DataTable.id)
        )
    )


# Built once (every widget page counts its forks): see widgets/listing.py.
_FORK_COUNT = (
    select(func.count()).select_from(Widget).where(Widget.forked_from_id == bindparam("id"))
)


def fork_count(widget_id: str) -> int:
    """How many widgets were forked from this one (private forks included; it is only a number)."""
    return db.session.execute(_FORK_COUNT, {"id": widget_id}).scalar_one()


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
