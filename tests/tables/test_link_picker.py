"""The Data panel's link picker: a link cell is edited by searching the linked table's rows and
ticking them (a form with CSRF, htmx fragments), owner only."""

import pytest

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.tables import schema
from pyspace.tables.queries import row_values
from pyspace.tables.rows import add_row


@pytest.fixture
def game(app, alice):
    """(widget id, scores table id, score row id, player column id, team column id, players)."""
    widget_id = alice.create_widget("Game")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        players = schema.create_table(widget, "players")
        schema.add_column(players, "name", "text")
        scores = schema.create_table(widget, "scores")
        player = schema.add_column(scores, "player", "link_single", players)
        team = schema.add_column(scores, "team", "link_multiple", players)
        ids = {name: add_row(players, {"name": name}) for name in ("Ada", "Brian", "Cleo")}
        score = add_row(scores, {})
        return widget_id, scores.id, score, player.id, team.id, ids


def _cell(game, column_id, action=""):
    widget_id, table_id, row_id = game[:3]
    return f"/widgets/{widget_id}/tables/{table_id}/rows/{row_id}/cells/{column_id}{action}"


def _value(app, game, name):
    with app.app_context():
        table = schema.table_of(game[0], game[1])
        assert table is not None
        return row_values(list(table.columns), [game[2]])[game[2]][name]


def test_the_picker_searches_the_linked_tables_rows(alice, game):
    response = alice.client.get(
        _cell(game, game[3], "/pick?q=brian"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Brian" in body and "Ada" not in body
    assert 'type="radio"' in body and 'name="csrf_token"' in body


def test_the_edit_form_of_a_link_cell_loads_the_picker(alice, game):
    body = alice.client.get(_cell(game, game[3], "/edit"), headers={"HX-Request": "true"})
    assert f'hx-get="{_cell(game, game[3], "/pick")}"' in body.get_data(as_text=True)


def test_picking_a_row_links_it_and_unticking_clears_it(app, alice, game):
    ada = game[5]["Ada"]
    response = alice.post(_cell(game, game[3], "/links"), {"target": [str(ada)]}, htmx=True)
    assert response.status_code == 200
    assert str(ada) in response.get_data(as_text=True)
    assert _value(app, game, "player").id == ada
    picker = alice.client.get(_cell(game, game[3], "/pick"), headers={"HX-Request": "true"})
    assert f'value="{ada}" checked' in picker.get_data(as_text=True)
    alice.post(_cell(game, game[3], "/links"), {"target": [""]}, htmx=True)
    assert _value(app, game, "player") is None


def test_picking_several_rows_for_a_multiple_link_keeps_their_order(app, alice, game):
    picked = [str(game[5]["Cleo"]), str(game[5]["Ada"])]
    response = alice.post(_cell(game, game[4], "/links"), {"target": picked}, htmx=True)
    assert response.status_code == 200
    assert [ref.id for ref in _value(app, game, "team")] == [int(p) for p in picked]


def test_a_single_link_takes_one_row(app, alice, game):
    two = [str(game[5]["Ada"]), str(game[5]["Brian"])]
    response = alice.post(_cell(game, game[3], "/links"), {"target": two}, htmx=True)
    assert response.status_code == 422 and "Pick one row." in response.get_data(as_text=True)
    assert _value(app, game, "player") is None


def test_a_row_of_another_table_is_refused(app, alice, game):
    response = alice.post(_cell(game, game[3], "/links"), {"target": [str(game[2])]}, htmx=True)
    assert response.status_code == 422
    assert _value(app, game, "player") is None


def test_the_picker_is_404_for_someone_else_and_for_a_plain_column(app, alice, bob, game):
    assert bob.client.get(_cell(game, game[3], "/pick")).status_code == 404
    response = bob.post(_cell(game, game[3], "/links"), {"target": [str(game[5]["Ada"])]})
    assert response.status_code == 404
    with app.app_context():
        players = schema.table_named(game[0], "players")
        assert players is not None
        name = players.columns[0]
        ada = game[5]["Ada"]
    url = f"/widgets/{game[0]}/tables/{players.id}/rows/{ada}/cells/{name.id}/pick"
    assert alice.client.get(url).status_code == 404
