"""Table behaviour matched to Anvil's where real Anvil apps rely on it: a link_multiple set to
[] reads back as [] (never set: None), column names with spaces, and searching simple_object
columns by containment (as Anvil's PostgreSQL `@>` does)."""

import pytest

from pyspace.extensions import db
from pyspace.models import DataTable
from pyspace.tables import queries, rows, schema
from pyspace.tables.columns import RowRef
from tests.tables.helpers import make_owner, make_widget_with_tables


@pytest.fixture
def owner(app):
    return make_owner(app)


@pytest.fixture
def teams(app, owner):
    return make_widget_with_tables(
        app,
        owner,
        {
            "players": [("name", "text")],
            "teams": [("name", "text"), ("members", ("link_multiple", "players"))],
        },
    )


def _values(table: DataTable, row_id: int) -> dict:
    return queries.row_values(table.columns, [row_id])[row_id]


def test_a_link_multiple_set_to_an_empty_list_reads_back_as_an_empty_list(app, teams):
    with app.app_context():
        players = schema.table_named(teams, "players")
        table = schema.table_named(teams, "teams")
        ann = rows.add_row(players, {"name": "Ann"})
        empty = rows.add_row(table, {"name": "empty", "members": []})
        never = rows.add_row(table, {"name": "never set"})
        assert _values(table, empty)["members"] == []
        # A value never set is None, as in Anvil.
        assert _values(table, never)["members"] is None
        rows.update_row(table, never, {"members": []})
        assert _values(table, never)["members"] == []
        rows.update_row(table, never, {"members": [RowRef(None, ann)]})
        assert _values(table, never)["members"] == [RowRef("players", ann)]
        rows.update_row(table, never, {"members": None})
        assert _values(table, never)["members"] is None
        # Adding rows in bulk keeps the difference too.
        bulk = rows.add_rows(table, [{"members": []}, {"members": None}])
        assert [_values(table, row_id)["members"] for row_id in bulk] == [[], None]


def test_a_linked_list_whose_rows_are_deleted_reads_as_an_empty_list(app, teams):
    with app.app_context():
        players = schema.table_named(teams, "players")
        table = schema.table_named(teams, "teams")
        ann = rows.add_row(players, {"name": "Ann"})
        team = rows.add_row(table, {"members": [RowRef(None, ann)]})
        rows.delete_rows(players, [ann])
        assert _values(table, team)["members"] == []
        # The list cell itself counts no bytes (its links did, and went with the row).
        db.session.refresh(table)
        assert table.byte_count == 0

