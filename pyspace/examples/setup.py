"""Use this example: a private copy of an example for one user, like a fork of it.

Everything is created in one transaction: the widget (private), its secrets (blank, with their
descriptions and required flags), its tables with their columns (no rows), and its schedules,
disabled until the secrets they need have values.
"""

import math

from sqlalchemy import insert

from ..extensions import db
from ..models import DataColumn, DataTable, Secret, User, Widget, new_widget_id
from ..tasks.schedules import Interval, min_minutes, new_schedule
from .catalog import Example


def use_example(example: Example, user: User) -> Widget:
    """Create `user`'s private copy of `example`; commit and return it."""
    widget = Widget(
        id=new_widget_id(),
        owner_id=user.id,
        title=example.title,
        description=example.summary,
        kind=example.kind,
        visibility="private",
        server_code=example.server_code,
        client_code=example.client_code,
        html=example.html,
    )
    try:
        db.session.add(widget)
        db.session.flush()
        if example.secrets:
            db.session.execute(
                insert(Secret),
                [
                    {
                        "widget_id": widget.id,
                        "name": secret["name"],
                        "description": secret.get("description", ""),
                        "required": bool(secret.get("required", False)),
                    }
                    for secret in example.secrets
                ],
            )
        for spec in example.tables:
            table = DataTable(widget_id=widget.id, name=spec["name"])
            db.session.add(table)
            db.session.flush()
            db.session.add_all(
                DataColumn(table_id=table.id, name=column["name"], type=column["type"])
                for column in spec["columns"]
            )
        create_schedules(widget, example.schedules)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return widget


def create_schedules(widget: Widget, schedules: tuple[dict, ...]) -> None:
    """The example's schedules, each DISABLED until its owner has set the secrets it needs (the
    Scheduled Tasks panel says why), in the caller's transaction."""
    for entry in schedules:
        new_schedule(
            widget,
            entry["function"],
            _within_site_minimum(entry["every"], int(entry.get("n", 1))),
            enabled=False,
        )


def _within_site_minimum(every: str, n: int) -> Interval:
    """The example's interval, made as long as the site's shortest (SCHEDULE_MIN_MINUTES) if it
    is shorter: an operator may allow only rarer schedules than the example's author chose, and
    "Use this example" must still work there."""
    shortest = min_minutes()
    if every == "hour":
        n = max(n, math.ceil(shortest / 60))
    elif every == "minute":
        n = max(n, shortest)
    return Interval(every=every, n=n)
