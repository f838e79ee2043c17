"""Per-widget quotas (rows, bytes): clear errors at the limit, counters kept exact."""

import pytest

from pyspace.extensions import db
from pyspace.models import DataTable
from pyspace.tables import schema
from pyspace.tables.rows import RowChangeError, add_row, delete_rows, update_row
from tests.tables.helpers import make_widget_with_table


@pytest.fixture
def table_id(app, make_user):
    widget_id = make_widget_with_table(app, make_user())
    with app.app_context():
        return schema.table_named(widget_id, "readings").id


def test_bytes_quota_refuses_a_row_that_would_pass_it_and_changes_nothing(app, table_id):
    app.config["TABLES_MAX_BYTES"] = 100
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        add_row(table, {"city": "x" * 50})
        with pytest.raises(RowChangeError, match="at most 100 bytes"):
            add_row(table, {"city": "y" * 50})
        table = db.session.get(DataTable, table_id)
        assert (table.row_count, table.byte_count) == (1, len('"' + "x" * 50 + '"'))


def test_bytes_quota_counts_updates_and_frees_deleted_values(app, table_id):
    app.config["TABLES_MAX_BYTES"] = 100
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        row = add_row(table, {"city": "x" * 50})
        with pytest.raises(RowChangeError, match="at most 100 bytes"):
            update_row(table, row, {"city": "x" * 120})
        update_row(table, row, {"city": "short"})
        assert db.session.get(DataTable, table_id).byte_count == len('"short"')
        delete_rows(table, [row])
        table = db.session.get(DataTable, table_id)
        assert (table.row_count, table.byte_count) == (0, 0)


def test_quotas_are_per_widget_across_its_tables(app, table_id):
    app.config["TABLES_MAX_ROWS"] = 2
    with app.app_context():
        readings = db.session.get(DataTable, table_id)
        other = schema.create_table(readings_widget(readings), "notes")
        schema.add_column(other, "body", "text")
        add_row(readings, {"city": "a"})
        add_row(other, {"body": "b"})
        with pytest.raises(RowChangeError, match="at most 2 rows"):
            add_row(readings, {"city": "c"})


def readings_widget(table):
    from pyspace.models import Widget

    return db.session.get(Widget, table.widget_id)


def test_deleting_a_column_gives_its_bytes_back(app, table_id):
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        add_row(table, {"city": "Oslo", "description": "rain"})
        city = next(column for column in table.columns if column.name == "city")
        schema.delete_column(table, city)
        assert db.session.get(DataTable, table_id).byte_count == len('"rain"')
