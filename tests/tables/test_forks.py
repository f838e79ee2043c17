"""Forks copy a widget's tables and columns, never its rows, and the fork's checklist says so."""

from pyspace.extensions import db
from pyspace.models import DataCell, DataColumn, DataRow, DataTable
from pyspace.tables import schema
from pyspace.tables.rows import add_row


def test_fork_copies_tables_and_columns_but_no_rows(app, alice, bob):
    widget_id = alice.create_widget("Logger", visibility="public")
    with app.app_context():
        from pyspace.models import Widget

        widget = db.session.get(Widget, widget_id)
        readings = schema.create_table(widget, "readings")
        schema.add_column(readings, "city", "text")
        schema.add_column(readings, "temp", "number")
        notes = schema.create_table(widget, "notes")
        schema.add_column(notes, "body", "simple_object")
        add_row(readings, {"city": "PRIVATE-ROW-VALUE", "temp": 4})
    response = bob.post(f"/widgets/{widget_id}/fork")
    assert response.status_code == 302
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        tables = db.session.scalars(
            db.select(DataTable).filter_by(widget_id=fork_id).order_by(DataTable.id)
        ).all()
        assert [(t.name, t.row_count, t.byte_count) for t in tables] == [
            ("readings", 0, 0),
            ("notes", 0, 0),
        ]
        assert [(c.name, c.type) for c in tables[0].columns] == [
            ("city", "text"),
            ("temp", "number"),
        ]
        assert [(c.name, c.type) for c in tables[1].columns] == [("body", "simple_object")]
        fork_table_ids = [t.id for t in tables]
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(DataRow)
                .where(DataRow.table_id.in_(fork_table_ids))
            )
            == 0
        )
        # The original keeps its row, and its columns stay its own.
        assert db.session.scalar(db.select(db.func.count()).select_from(DataCell)) == 2
        assert db.session.scalar(db.select(db.func.count()).select_from(DataColumn)) == 6
    editor = bob.client.get(f"/widgets/{fork_id}/edit").get_data(as_text=True)
    assert "Data tables copied without rows" in editor
    assert "<code>readings</code>" in editor
    assert "PRIVATE-ROW-VALUE" not in editor


def test_fork_link_columns_link_to_the_forks_own_tables(app, alice, bob):
    widget_id = alice.create_widget("Game", visibility="public")
    with app.app_context():
        from pyspace.models import Widget

        widget = db.session.get(Widget, widget_id)
        players = schema.create_table(widget, "players")
        scores = schema.create_table(widget, "scores")
        schema.add_column(scores, "player", "link_single", players)
        schema.add_column(scores, "team", "link_multiple", players)
    response = bob.post(f"/widgets/{widget_id}/fork")
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        fork_players = schema.table_named(fork_id, "players")
        fork_scores = schema.table_named(fork_id, "scores")
        assert [(c.type, c.link_table_id) for c in fork_scores.columns] == [
            ("link_single", fork_players.id),
            ("link_multiple", fork_players.id),
        ]


def test_data_panel_adds_a_link_column_and_shows_anvil_type_names(app, alice):
    widget_id = alice.create_widget("Game")
    with app.app_context():
        from pyspace.models import Widget

        widget = db.session.get(Widget, widget_id)
        players = schema.create_table(widget, "players")
        scores = schema.create_table(widget, "scores")
        schema.add_column(scores, "score", "number")
        players_id, scores_id = players.id, scores.id
    url = f"/widgets/{widget_id}/tables/{scores_id}"
    page = alice.client.get(f"{url}/rows").get_data(as_text=True)
    assert f'value="link_single:{players_id}"' in page and "link to players" in page
    response = alice.post(
        f"{url}/columns", data={"name": "player", "type": f"link_single:{players_id}"}
    )
    assert response.status_code in (200, 302)
    with app.app_context():
        column = schema.table_named(widget_id, "scores").columns[-1]
        assert (column.name, column.type, column.link_table_id) == (
            "player",
            "link_single",
            players_id,
        )
    page = alice.client.get(f"{url}/rows").get_data(as_text=True)
    assert "link_single → players" in page and '<span class="badge">number</span>' in page


def test_client_access_is_server_only_by_default_set_in_the_panel_and_forked(app, alice, bob):
    widget_id = alice.create_widget("Shop", visibility="public")
    with app.app_context():
        from pyspace.models import Widget

        products = schema.create_table(db.session.get(Widget, widget_id), "products")
        schema.create_table(db.session.get(Widget, widget_id), "orders")
        products_id = products.id
        assert schema.client_table(widget_id, "products") is None
    url = f"/widgets/{widget_id}/tables/{products_id}"
    assert "search and edit it" in alice.client.get(f"{url}/rows").get_data(as_text=True)
    assert alice.post(f"{url}/client-access", data={"access": "search"}).status_code == 302
    assert alice.post(f"{url}/client-access", data={"access": "all"}).status_code == 422
    # Another account can't change it (404, as for every owner-only route).
    assert bob.post(f"{url}/client-access", data={"access": "edit"}).status_code == 404
    with app.app_context():
        assert schema.client_table(widget_id, "products").id == products_id
        assert schema.client_table(widget_id, "products", edit=True) is None
        assert schema.client_table(widget_id, "orders") is None
    fork_id = bob.post(f"/widgets/{widget_id}/fork").headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        assert schema.table_named(fork_id, "products").client_access == "search"
        assert schema.table_named(fork_id, "orders").client_access == "none"
