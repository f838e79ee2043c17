"""Table behaviour matched to Anvil's where real Anvil apps rely on it: a link_multiple set to
[] reads back as [] (never set: None), column names with spaces, and searching simple_object
columns by containment (as Anvil's PostgreSQL `@>` does)."""

import pytest

from pyspace.extensions import db
from pyspace.models import DataTable, Widget
from pyspace.tables import queries, rows, schema
from pyspace.tables.columns import RowRef
from tests.tables.helpers import TABLE_LIMITS, make_widget_with_tables
from tests.tables.test_api import printed, run


@pytest.fixture
def owner(make_user):
    return make_user()


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


# --- Column names with spaces ("Task Name"), as Anvil's -------------------------------------

# A name that would break SQL text if it were ever part of it: it is only a bound value.
HOSTILE = "x'); DROP TABLE data_rows; --"


@pytest.fixture
def tasks(app, owner):
    return make_widget_with_tables(
        app, owner, {"tasks": [("Task Name", "text"), (HOSTILE, "number")]}
    )


def test_column_names_may_hold_spaces_and_any_printable_text(app, tasks):
    with app.app_context():
        table = schema.table_named(tasks, "tasks")
        assert [column.name for column in table.columns] == ["Task Name", HOSTILE]
        schema.add_column(table, "Assigned to", "text")
        for bad, message in [
            ("tab\there", "printable"),
            ("x" * 65, "at most 64"),
            ("Task Name", "already has a column"),
            ("id", "row's own id"),
        ]:
            with pytest.raises(schema.TableChangeError, match=message):
                schema.add_column(table, bad, "text")
        # Spaces at either end are trimmed, as every name typed is.
        assert schema.add_column(table, "  Due date ", "date").name == "Due date"
        # Table names stay Python identifiers (app_tables.tasks).
        with pytest.raises(schema.TableChangeError, match="letters, digits"):
            schema.create_table(db.session.get(Widget, tasks), "my tasks")


def test_rows_are_written_and_searched_by_a_name_with_spaces(app, tasks):
    with app.app_context():
        table = schema.table_named(tasks, "tasks")
        columns = rows.columns_by_name(table)
        docs = rows.add_row(table, {"Task Name": "Docs", HOSTILE: 1})
        rows.add_row(table, {"Task Name": "Tests", HOSTILE: 2})
        assert _values(table, docs) == {"Task Name": "Docs", HOSTILE: 1}
        found = queries.conditions(table, columns, [{"column": "Task Name", "query": "Docs"}])
        assert queries.count_rows(table, found) == 1
        hostile = queries.conditions(table, columns, [{"column": HOSTILE, "query": 2}])
        assert queries.count_rows(table, hostile) == 1
        # The Data panel's query box takes the name as typed.
        assert queries.count_rows(table, queries.panel_filter(table, "Task Name = Tests")) == 1
        assert queries.count_rows(table, queries.panel_filter(table, "Task Name != Tests")) == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(DataTable)) == 1


def test_server_code_reads_writes_and_searches_a_column_with_spaces(app, app_config, tasks):
    app_config.update(TABLE_LIMITS)
    result = run(
        app,
        tasks,
        """
        t = app_tables.tasks
        row = t.add_row(**{'Task Name': 'Docs'})
        row['Task Name'] = 'Write docs'
        t.add_row(**{'Task Name': 'Tests'})
        print(json.dumps([row['Task Name'], t.get(**{'Task Name': 'Write docs'}) == row,
                          [r['Task Name'] for r in t.search(**{'Task Name': q.like('T%')})],
                          sorted(dict(row))]))
        """,
        seed=False,
    )
    assert printed(result) == [["Write docs", True, ["Tests"], ["Task Name", HOSTILE]]]


def test_the_data_panel_adds_a_column_named_with_spaces(app, alice):
    widget_id = alice.create_widget("Tasks")
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "tasks")
        table_id = table.id
    response = alice.post(
        f"/widgets/{widget_id}/tables/{table_id}/columns",
        {"name": "Assigned <to>", "type": "text"},
        htmx=True,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Assigned &lt;to&gt;" in body and "Assigned <to>" not in body
    with app.app_context():
        assert [c.name for c in db.session.get(DataTable, table_id).columns] == ["Assigned <to>"]


# --- Searching simple_object columns by containment, as Anvil does ---------------------------

OBJECTS = {
    "a": {"tags": ["x", "y"], "n": 1, "meta": {"k": "v", "deep": [1, 2]}},
    "b": ["s1", "s2"],
    "c": ["s2", ["n1", "n2"]],
    "d": "s1",
    "e": 1.5,
    "f": True,
    "g": {"k": "v2"},
    "h": None,
    "i": [1, "1"],
}


@pytest.fixture
def objects(app, owner):
    widget_id = make_widget_with_tables(
        app, owner, {"things": [("label", "text"), ("data", "simple_object")]}
    )
    with app.app_context():
        table = schema.table_named(widget_id, "things")
        rows.add_rows(table, [{"label": k, "data": v} for k, v in OBJECTS.items()])
    return widget_id


def _labels(table: DataTable, query) -> list[str]:
    columns = rows.columns_by_name(table)
    where = queries.conditions(table, columns, [{"column": "data", "query": query}])
    ids = sorted(queries.row_ids(table, where, [], 0, 100))
    return [value["label"] for value in queries.row_values(table.columns, ids).values()]


@pytest.mark.parametrize(
    ("query", "labels"),
    [
        # A dict: every key given, each value contained in turn.
        ({"n": 1}, "a"),
        ({"meta": {"k": "v"}}, "a"),
        ({"meta": {"deep": [2]}, "tags": ["y"]}, "a"),
        ({"k": "v"}, ""),
        ({"tags": "y"}, ""),  # below the top, a list doesn't contain a lone item
        ({}, "ag"),
        # A list: every item given, in any order, among others.
        (["s1"], "b"),
        (["s2"], "bc"),
        (["s2", "s1"], "b"),
        ([["n2"]], "c"),
        ([], "bci"),
        # A plain value: that value, or (at the top) a list holding it.
        ("s1", "bd"),
        (1.5, "e"),
        (1, "i"),
        ("1", "i"),
        (True, "f"),
        (None, "h"),
        ({"x') OR 1=1 --": 1}, ""),
        # q.any_of / q.none_of over values.
        ({"op": "any_of", "values": [["s1"], True]}, "bf"),
        ({"op": "none_of", "values": ["s1"]}, "acefghi"),
    ],
)
def test_a_simple_object_search_matches_values_containing_the_one_given(
    app, objects, query, labels
):
    with app.app_context():
        assert "".join(_labels(schema.table_named(objects, "things"), query)) == labels


def test_a_simple_object_search_too_large_is_refused(app, objects):
    with app.app_context():
        table = schema.table_named(objects, "things")
        with pytest.raises(queries.QueryError, match="at most 200 values"):
            _labels(table, list(range(300)))
        deep: list = []
        for _ in range(20):
            deep = [deep]
        with pytest.raises(queries.QueryError, match="nested"):
            _labels(table, deep)


def test_server_code_searches_simple_objects_as_in_anvils_documentation(app, app_config, owner):
    app_config.update(TABLE_LIMITS)
    widget_id = make_widget_with_tables(
        app, owner, {"things": [("label", "text"), ("data", "simple_object")]}
    )
    result = run(
        app,
        widget_id,
        """
        t = app_tables.things
        t.add_row(label='answer', data={'the_answer': 42, 'op': 'add'})
        t.add_row(label='list', data=['hello', 42, 'world'])
        def labels(*args, **kwargs):
            return sorted(r['label'] for r in t.search(*args, **kwargs))
        print(json.dumps([
            labels(data={'the_answer': 42}), labels(data={'op': 'add'}),
            labels(data=[42, 'hello']), labels(data='world'),
            labels(data=q.any_of({'op': 'add'}, ['world'])), labels(data=q.not_({'op': 'add'})),
            t.get(data=['hello'])['label'],
        ]))
        """,
        seed=False,
    )
    assert printed(result) == [
        [["answer"], ["answer"], ["list"], ["list"], ["answer", "list"], ["list"], "list"]
    ]
