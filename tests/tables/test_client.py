"""`anvil.tables` in client code (the browser's `anvil` package, run here under CPython with a
stand-in for the frame's channel): `app_tables` asks the site's tables route, with Anvil's
API, and raises what the site answers."""

import json

from tests.values.runtimes import run_client

ROW = {
    "$t": "row",
    "table": "notes",
    "id": "4",
    "ref": "signed-row-4",
    "values": {"title": "Milk", "due": {"$t": "date", "v": "2024-05-01"}},
}


def asked_bodies(stdout: str) -> list:
    return [body for route, body in json.loads(stdout.splitlines()[-1]) if route == "-/tables"]


def test_search_asks_the_tables_route_and_pages_through_it():
    first = {
        "$t": "search",
        "table": "notes",
        "ref": "signed-search",
        "client": True,
        "more": True,
        "rows": [ROW],
    }
    second = dict(ROW, id="5", ref="signed-row-5", values={"title": "Eggs", "due": None})
    result = run_client(
        """
        import anvil.tables.query as q
        from anvil.tables import app_tables, order_by
        rows = app_tables.notes.search(order_by("title"), done=False, title=q.ilike("%i%"))
        print([row["title"] for row in rows], rows[0]["due"])
        print(json.dumps(ASKED))
        """,
        {
            "-/tables": [
                {"ok": True, "result": first},
                {"ok": True, "result": {"rows": [second], "more": False}},
            ]
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "['Milk', 'Eggs'] 2024-05-01"
    search, page = asked_bodies(result.stdout)
    assert search == {
        "op": "search",
        "table": "notes",
        "filters": [
            {"column": "done", "query": False},
            {"column": "title", "query": {"op": "ilike", "value": "%i%"}},
        ],
        "order": [{"column": "title", "ascending": True}],
    }
    assert page == {"op": "page", "ref": "signed-search", "offset": 1}


def test_rows_are_added_and_changed_by_their_reference():
    changed = dict(ROW, values={"title": "Oat milk", "due": None})
    result = run_client(
        """
        import datetime
        from anvil.tables import app_tables
        row = app_tables.notes.add_row(title="Milk", due=datetime.date(2024, 5, 1))
        row["title"] = "Oat milk"
        print(row["title"], row.get_id())
        print(json.dumps(ASKED))
        """,
        {"-/tables": [{"ok": True, "result": ROW}, {"ok": True, "result": changed}]},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "Oat milk 4"
    add, update = asked_bodies(result.stdout)
    assert add == {
        "op": "add_row",
        "table": "notes",
        "values": {"title": "Milk", "due": {"$t": "date", "v": "2024-05-01"}},
    }
    assert update == {"op": "update_row", "values": {"title": "Oat milk"}, "ref": "signed-row-4"}


def test_a_refusal_is_anvils_permission_denied():
    message = "Cannot read from table 'private' from client code."
    result = run_client(
        """
        import anvil.server
        from anvil.tables import app_tables
        try:
            app_tables.private.search()
        except anvil.server.PermissionDenied as error:
            print(type(error).__name__, error)
        """,
        {"-/tables": {"ok": False, "error": {"type": "PermissionDenied", "message": message}}},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"PermissionDenied {message}"


def test_a_linked_row_is_read_when_first_used():
    linked = {"$t": "row", "table": "players", "id": "2", "ref": "signed-row-2"}
    score = dict(ROW, table="scores", values={"player": linked})
    player = dict(linked, values={"name": "Ann"})
    result = run_client(
        """
        from anvil.tables import app_tables
        score = app_tables.scores.get_by_id("4")
        print(len(ASKED))
        print(score["player"]["name"])
        print(json.dumps(ASKED))
        """,
        {"-/tables": [{"ok": True, "result": score}, {"ok": True, "result": player}]},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["1", "Ann"]
    assert asked_bodies(result.stdout)[1] == {"op": "row", "ref": "signed-row-2"}


def test_a_searched_dict_with_an_op_key_goes_as_a_value_not_a_query():
    result = run_client(
        """
        import anvil.tables.query as q
        from anvil.tables import app_tables
        list(app_tables.notes.search(q.any_of(meta={"op": "gt"})))
        print(json.dumps(ASKED))
        """,
        {
            "-/tables": [
                {
                    "ok": True,
                    "result": {
                        "$t": "search",
                        "table": "notes",
                        "ref": "r",
                        "client": True,
                        "more": False,
                        "rows": [],
                    },
                }
            ]
        },
    )
    assert result.returncode == 0, result.stderr
    (search,) = asked_bodies(result.stdout)
    (condition,) = search["filters"]
    assert condition["query"]["columns"] == {"meta": {"op": "eq", "value": {"op": "gt"}}}
