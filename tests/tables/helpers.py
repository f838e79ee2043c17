"""Helpers for the data-table tests: widgets with tables, and runs of server code."""

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import runner_for
from pyspace.tables import schema
from tests.sandbox.helpers import SMALL_LIMITS

# Runs that make many table requests need a little more than the escape tests' 2 s.
TABLE_LIMITS = {**SMALL_LIMITS, "RUN_WALL_SECONDS": 20.0, "RUN_CPU_SECONDS": 10}
READINGS = [("when", "datetime"), ("city", "text"), ("temp", "number"), ("description", "text")]


def make_widget_with_table(
    app, owner_id: int, table: str = "readings", columns=READINGS, title: str = "Logger"
) -> str:
    """A widget of `owner_id` with table `table` of `columns` [(name, type)]; its id."""
    with app.app_context():
        widget = Widget(owner_id=owner_id, title=title)
        db.session.add(widget)
        db.session.commit()
        created = schema.create_table(widget, table)
        for name, type_ in columns:
            schema.add_column(created, name, type_)
        return widget.id


def run_code(app, widget_id: str, code: str, actor_id: int | None = None):
    """Run `code` as `widget_id`'s server code; the RunResult."""
    with app.app_context():
        return runner_for(app).run(widget_id, code, actor_id)


def make_widget_with_tables(app, owner_id: int, tables: dict, title: str = "App") -> str:
    """A widget of `owner_id` with `tables` {name: [(column, type)]}, made in order; a link
    column's type is ("link_single" or "link_multiple", target table name). Its id."""
    with app.app_context():
        widget = Widget(owner_id=owner_id, title=title)
        db.session.add(widget)
        db.session.commit()
        made = {}
        for name, columns in tables.items():
            made[name] = schema.create_table(widget, name)
            for column, type_ in columns:
                if isinstance(type_, tuple):
                    schema.add_column(made[name], column, type_[0], made[type_[1]])
                else:
                    schema.add_column(made[name], column, type_)
        return widget.id
