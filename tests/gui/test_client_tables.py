"""Client code's own data table access (`POST /widgets/<id>/call/-/tables`): only tables the
owner opened to client code, read-only or read-write as set, checked on the site for every
question; rows handed out with references only this page can send back; links into tables
client code wasn't given never carry their rows; secret values masked for the owner and
withheld from everyone else; writes count against the owner's storage budget."""

import json

import pytest

from pyspace.extensions import db
from pyspace.gui.references import sign_reference
from pyspace.models import Widget
from pyspace.sandbox.services import RunContext
from pyspace.tables import schema
from pyspace.tables.channel import SERVICES
from tests.gui.test_routes import frame_boot
from tests.sandbox.helpers import add_secret

TASKS = [("title", "text"), ("done", "bool"), ("due", "date")]


def ask(client, widget_id, token, body, headers=None):
    return client.post(
        f"/widgets/{widget_id}/call/-/tables",
        headers={"X-Call-Token": token, **(headers or {})},
        data=json.dumps(body),
        content_type="application/json",
    )


def make_tables(app, widget_id, access: dict, columns=None):
    """Tables of `widget_id` named as `access`'s keys, with that client access, and TASKS
    columns (or `columns[name]`)."""
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        made = {}
        for name, level in access.items():
            made[name] = schema.create_table(widget, name)
            for column, type_ in (columns or {}).get(name, TASKS):
                if isinstance(type_, tuple):
                    schema.add_column(made[name], column, type_[0], made[type_[1]])
                else:
                    schema.add_column(made[name], column, type_)
            schema.set_client_access(made[name], level)


@pytest.fixture
def gui(app, alice):
    """A public GUI widget of alice's with tables `tasks` (searchable by client code),
    `notes` (editable), `private` (server only); the owner's call token."""
    widget_id = alice.create_widget("Todo", "gui", visibility="public")
    make_tables(app, widget_id, {"tasks": "search", "notes": "edit", "private": "none"})
    return widget_id, frame_boot(alice.client, widget_id)["callToken"]


def result_of(response):
    answer = response.get_json()
    assert response.status_code == 200 and answer["ok"], answer
    return answer["result"]


def error_of(response, status=200):
    answer = response.get_json()
    assert response.status_code == status and not answer["ok"], answer
    return answer["error"]


def test_client_code_adds_and_searches_rows_of_an_editable_table(client, gui):
    widget_id, token = gui
    added = result_of(
        ask(
            client,
            widget_id,
            token,
            {"op": "add_row", "table": "notes", "values": {"title": "Milk", "done": False}},
        )
    )
    assert added["$t"] == "row" and added["values"]["title"] == "Milk" and added["ref"]
    found = result_of(
        ask(
            client,
            widget_id,
            token,
            {"op": "search", "table": "notes", "filters": [{"column": "done", "query": False}]},
        )
    )
    assert found["$t"] == "search" and found["client"] is True and "query" not in found
    assert [row["values"]["title"] for row in found["rows"]] == ["Milk"]
    assert found["more"] is False


def test_visitor_reads_a_searchable_table_but_cannot_write_to_it(app, client, gui, bob):
    widget_id, _ = gui
    with app.app_context():
        SERVICES["tables_add_row"](
            {"table": "tasks", "values": {"title": "Walk", "due": {"$date": "2024-05-01"}}},
            RunContext(widget_id=widget_id, actor_id=None),
        )
    token = frame_boot(bob.client, widget_id)["callToken"]
    rows = result_of(ask(bob.client, widget_id, token, {"op": "search", "table": "tasks"}))["rows"]
    assert rows[0]["values"]["due"] == {"$t": "date", "v": "2024-05-01"}
    refused = error_of(
        ask(bob.client, widget_id, token, {"op": "add_row", "table": "tasks", "values": {}})
    )
    assert refused == {
        "type": "PermissionDenied",
        "message": "Cannot write to table 'tasks' from client code.",
    }
    update = {"op": "update_row", "ref": rows[0]["ref"], "values": {"title": "Run"}}
    refused = error_of(ask(bob.client, widget_id, token, update))
    assert refused["message"] == "Cannot write to row from table 'tasks' from client code."
    again = result_of(ask(bob.client, widget_id, token, {"op": "search", "table": "tasks"}))
    assert again["rows"][0]["values"]["title"] == "Walk"


@pytest.mark.parametrize("table", ["private", "no_such_table"])
@pytest.mark.parametrize("op", ["search", "get", "list_columns", "add_row"])
def test_a_table_without_client_access_answers_permission_denied(client, gui, table, op):
    widget_id, token = gui
    body = {"op": op, "table": table, "values": {"title": "x"}}
    refused = error_of(ask(client, widget_id, token, body))
    assert refused["type"] == "PermissionDenied"
    verb = "write to" if op == "add_row" else "read from"
    # The same answer whether the table exists or not.
    assert refused["message"] == f"Cannot {verb} table '{table}' from client code."


def test_closing_a_table_stops_its_search_paging_at_once(app, client, gui):
    widget_id, token = gui
    search = result_of(ask(client, widget_id, token, {"op": "search", "table": "notes"}))
    with app.app_context():
        schema.set_client_access(schema.table_named(widget_id, "notes"), "none")
    refused = error_of(
        ask(client, widget_id, token, {"op": "page", "ref": search["ref"], "offset": 0})
    )
    assert refused["type"] == "PermissionDenied"
    # Nor through the route that pages searches server functions returned.
    answer = client.post(
        f"/widgets/{widget_id}/call/-/rows",
        headers={"X-Call-Token": token},
        data=json.dumps({"ref": search["ref"], "offset": 0}),
        content_type="application/json",
    )
    assert answer.status_code == 400


def test_searches_page_and_count_through_the_tables_route(app, client, gui):
    widget_id, token = gui
    rows = [{"title": f"n{i:03}", "done": i % 2 == 0} for i in range(130)]
    with app.app_context():
        SERVICES["tables_add_rows"](
            {"table": "notes", "rows": rows}, RunContext(widget_id=widget_id, actor_id=None)
        )
    body = {"op": "search", "table": "notes", "order": [{"column": "title"}]}
    search = result_of(ask(client, widget_id, token, body))
    assert len(search["rows"]) == 100 and search["more"] is True
    page = result_of(
        ask(client, widget_id, token, {"op": "page", "ref": search["ref"], "offset": 100})
    )
    assert [r["values"]["title"] for r in page["rows"]][:2] == ["n100", "n101"]
    assert len(page["rows"]) == 30
    count = {"op": "count", "ref": search["ref"]}
    assert result_of(ask(client, widget_id, token, count)) == 130


def test_rows_are_only_taken_back_from_this_page(app, client, gui, bob):
    widget_id, token = gui
    added = result_of(
        ask(client, widget_id, token, {"op": "add_row", "table": "notes", "values": {"title": "a"}})
    )
    other_token = frame_boot(bob.client, widget_id)["callToken"]
    body = {"op": "update_row", "ref": added["ref"], "values": {"title": "b"}}
    assert error_of(ask(bob.client, widget_id, other_token, body), 400)["type"] == (
        "SerializationError"
    )
    # A row given by its id instead of its reference is refused, not stored as a link.
    forged = {
        "op": "add_row",
        "table": "notes",
        "values": {"title": {"$row": {"table": "private", "id": "1"}}},
    }
    assert error_of(ask(client, widget_id, token, forged))["type"] == "TableError"


def test_another_widgets_table_is_out_of_reach(app, alice, client, gui):
    widget_id, token = gui
    other = alice.create_widget("Other", "gui", visibility="public")
    make_tables(app, other, {"secrets_table": "edit"})
    # This widget's token asks about the other widget's table name: not this widget's table.
    refused = error_of(ask(client, widget_id, token, {"op": "search", "table": "secrets_table"}))
    assert refused["type"] == "PermissionDenied"
    # And this widget's token is no good on the other widget's route.
    answer = ask(client, other, token, {"op": "search", "table": "secrets_table"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "headers, status",
    [({"X-Call-Token": ""}, 401), ({"X-Call-Token": "forged.token.here"}, 401)],
)
def test_the_route_needs_a_genuine_call_token(client, gui, headers, status):
    widget_id, _ = gui
    response = client.post(
        f"/widgets/{widget_id}/call/-/tables",
        headers=headers,
        data=json.dumps({"op": "search", "table": "notes"}),
        content_type="application/json",
    )
    assert response.status_code == status


def test_the_route_ignores_cookies_and_the_csrf_token(app, alice, gui):
    # CSRF-exempt because no cookie authorizes it: a logged-in browser without the token
    # gets nothing, however it asks.
    widget_id, _ = gui
    response = alice.client.post(
        f"/widgets/{widget_id}/call/-/tables",
        data=json.dumps({"op": "search", "table": "notes"}),
        content_type="application/json",
    )
    assert response.status_code == 401


def test_private_widget_tables_answer_nobody_but_the_owner(app, alice, bob, client):
    widget_id = alice.create_widget("Private", "gui")
    make_tables(app, widget_id, {"notes": "edit"})
    token = frame_boot(alice.client, widget_id)["callToken"]
    assert result_of(ask(alice.client, widget_id, token, {"op": "search", "table": "notes"}))
    # A stranger can't load the frame for a token, and the owner's token isn't theirs to use
    # once the widget is private and they aren't the owner: that is what the token names.
    assert bob.client.get(f"/widgets/{widget_id}/frame").status_code == 404


def test_links_to_a_table_client_code_was_not_given_carry_no_row(app, client, gui):
    widget_id, token = gui
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        players = schema.create_table(widget, "players")
        schema.add_column(players, "name", "text")
        scores = schema.create_table(widget, "scores")
        schema.add_column(scores, "player", "link_single", players)
        schema.add_column(scores, "notes", "link_single", schema.table_named(widget_id, "notes"))
        schema.set_client_access(scores, "search")
        run = RunContext(widget_id=widget_id, actor_id=None)
        player = SERVICES["tables_add_row"]({"table": "players", "values": {"name": "Ann"}}, run)
        note = SERVICES["tables_add_row"]({"table": "notes", "values": {"title": "hi"}}, run)
        SERVICES["tables_add_row"](
            {
                "table": "scores",
                "values": {
                    "player": {"$row": {"table": "players", "id": player["row"]["id"]}},
                    "notes": {"$row": {"table": "notes", "id": note["row"]["id"]}},
                },
            },
            run,
        )
    (row,) = result_of(ask(client, widget_id, token, {"op": "search", "table": "scores"}))["rows"]
    hidden, shown = row["values"]["player"], row["values"]["notes"]
    assert hidden["table"] == "players" and hidden["id"] is None and "values" not in hidden
    assert "Ann" not in json.dumps(row)
    refused = error_of(ask(client, widget_id, token, {"op": "row", "ref": hidden["ref"]}))
    assert refused == {
        "type": "PermissionDenied",
        "message": "Cannot read from row from table 'players' from client code.",
    }
    linked = result_of(ask(client, widget_id, token, {"op": "row", "ref": shown["ref"]}))
    assert linked["values"]["title"] == "hi"


def test_secret_values_in_rows_are_masked_for_the_owner_and_withheld_from_visitors(
    app, client, gui, bob
):
    widget_id, owner_token = gui
    add_secret(app, widget_id, "api_key", "sk-live-123456789")
    body = {"op": "add_row", "table": "notes", "values": {"title": "key sk-live-123456789"}}
    owner_view = result_of(ask(client, widget_id, owner_token, body))
    assert owner_view["values"]["title"] == "key ***"
    token = frame_boot(bob.client, widget_id)["callToken"]
    answer = ask(bob.client, widget_id, token, {"op": "search", "table": "notes"})
    assert error_of(answer)["type"] == "OutputHidden"
    assert "sk-live" not in answer.get_data(as_text=True)


def test_client_writes_count_against_the_owners_storage_budget(app, client, gui):
    widget_id, token = gui
    app.config["TABLES_MAX_BYTES"] = 100
    body = {"op": "add_row", "table": "notes", "values": {"title": "x" * 2000}}
    refused = error_of(ask(client, widget_id, token, body))
    assert refused["type"] == "QuotaExceededError"


@pytest.mark.parametrize("table, editable", [("notes", True), ("tasks", False)])
def test_a_row_a_server_function_returned_is_editable_only_where_its_table_is(
    app, client, gui, table, editable
):
    widget_id, token = gui
    with app.app_context():
        run = RunContext(widget_id=widget_id, actor_id=None)
        row_id = SERVICES["tables_add_row"]({"table": table, "values": {"title": "a"}}, run)
        # As the call route signs a row in a server function's result (references.py).
        ref = sign_reference(
            {"kind": "row", "table": table, "id": row_id["row"]["id"]}, widget_id, token
        )
    answer = ask(
        client, widget_id, token, {"op": "update_row", "ref": ref, "values": {"title": "b"}}
    )
    if editable:
        assert result_of(answer)["values"]["title"] == "b"
    else:
        assert error_of(answer)["type"] == "PermissionDenied"
