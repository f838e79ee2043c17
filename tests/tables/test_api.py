"""`anvil.tables` from widget server code, in real sandboxed runs: Anvil's names and behaviour,
types checked per column, and nothing outside the run's own widget reachable."""

import json
import textwrap

import pytest

from pyspace.extensions import db
from pyspace.models import DataRow, DataTable
from pyspace.tables import schema
from tests.tables.helpers import TABLE_LIMITS, make_widget_with_table, run_code

HEADER = (
    "import anvil.tables as tables\nimport anvil.tables.query as q\n"
    "from anvil.tables import app_tables\nimport anvil.server\nimport json\n"
    "from datetime import datetime, date, timezone, timedelta\n"
)
SEED = """
t0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
for n, (city, temp, text) in enumerate([
    ("Oslo", 3.5, "light rain"), ("Paris", 11, "Clear sky"), ("Rome", 17.25, "sunny, clear SKY"),
    ("Oslo", -2, None), ("Lima", 19, "fog"),
]):
    app_tables.readings.add_row(when=t0 + timedelta(hours=n), city=city, temp=temp,
                                description=text)
def cities(rows):
    return [row['city'] for row in rows]
"""


@pytest.fixture(autouse=True)
def limits(app_config):
    app_config.update(TABLE_LIMITS)


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def widget(app, owner):
    return make_widget_with_table(app, owner)


def run(app, widget_id, body, seed=True):
    code = HEADER + (SEED if seed else "") + textwrap.dedent(body)
    return run_code(app, widget_id, code)


def printed(result):
    assert result.ok, result.error
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_anvil_header_imports_cleanly(app, widget):
    result = run(app, widget, "print(json.dumps([tables.order_by.__name__, q.any_of.__name__]))")
    assert printed(result) == [["order_by", "any_of"]]


def test_add_row_returns_the_row_with_its_values_and_an_id(app, widget):
    result = run(
        app,
        widget,
        """
        row = app_tables.readings.add_row(when=t0, city="Bergen", temp=7)
        print(json.dumps([row['city'], row['temp'], row['description'], row['when'].isoformat(),
                          isinstance(row.get_id(), str), sorted(dict(row))]))
        again = app_tables.readings.get_by_id(row.get_id())
        print(json.dumps([again == row, again['city']]))
        """,
    )
    assert printed(result) == [
        [
            "Bergen",
            7,
            None,
            "2026-11-01T12:00:00+00:00",
            True,
            ["city", "description", "temp", "when"],
        ],
        [True, "Bergen"],
    ]
    with app.app_context():
        assert db.session.scalar(db.select(DataTable.row_count)) == 6


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("city='Oslo'", ["Oslo", "Oslo"]),
        ("temp=q.greater_than(11)", ["Rome", "Lima"]),
        ("temp=q.less_than(3.5)", ["Oslo"]),
        ("temp=q.greater_than_or_equal_to(11)", ["Paris", "Rome", "Lima"]),
        ("temp=q.less_than_or_equal_to(3.5)", ["Oslo", "Oslo"]),
        ("description=q.like('%SKY')", ["Rome"]),
        ("description=q.ilike('%CLEAR%')", ["Paris", "Rome"]),
        ("description=q.like('%clear%')", ["Rome"]),
        ("city=q.any_of('Rome', 'Lima')", ["Rome", "Lima"]),
        ("city=q.none_of('Oslo', 'Lima')", ["Paris", "Rome"]),
        ("city=q.not_('Oslo')", ["Paris", "Rome", "Lima"]),
        ("temp=q.not_(q.greater_than(0))", ["Oslo"]),
        ("description=None", ["Oslo"]),
        ("description=q.any_of(None, 'fog')", ["Oslo", "Lima"]),
        ("when=q.greater_than(t0 + timedelta(hours=2, minutes=30))", ["Oslo", "Lima"]),
        ("city='Oslo', temp=q.greater_than(0)", ["Oslo"]),
    ],
)
def test_search_with_each_query_operator(app, widget, query, expected):
    result = run(app, widget, f"print(json.dumps(cities(app_tables.readings.search({query}))))")
    assert printed(result) == [expected]


def test_order_by_slicing_and_len(app, widget):
    result = run(
        app,
        widget,
        """
        newest = app_tables.readings.search(tables.order_by('when', ascending=False))
        print(json.dumps(cities(newest[:2])))
        print(json.dumps([len(newest), len(newest[1:3]), newest[0]['city'], newest[-1]['city']]))
        by_temp = app_tables.readings.search(tables.order_by('temp'))
        print(json.dumps(cities(by_temp)))
        warm = app_tables.readings.search(tables.order_by('temp', ascending=False),
                                          temp=q.greater_than(0))
        print(json.dumps(cities(warm[1:])))
        text = app_tables.readings.search(tables.order_by('description'))
        print(json.dumps(cities(text)))
        """,
    )
    assert printed(result) == [
        ["Lima", "Oslo"],
        [5, 2, "Lima", "Oslo"],
        ["Oslo", "Oslo", "Paris", "Rome", "Lima"],
        ["Rome", "Paris", "Oslo"],
        # The row with no description comes last.
        ["Paris", "Lima", "Oslo", "Rome", "Oslo"],
    ]


def test_iteration_pages_through_more_rows_than_one_request_fetches(app, widget):
    result = run(
        app,
        widget,
        """
        for n in range(250):
            app_tables.readings.add_row(city=f"c{n}", temp=n)
        rows = list(app_tables.readings.search(tables.order_by('temp')))
        print(json.dumps([len(rows), rows[-1]['temp'], len({r.get_id() for r in rows})]))
        """,
        seed=False,
    )
    assert printed(result) == [[250, 249, 250]]


def test_get_returns_one_row_none_or_raises_when_several_match(app, widget):
    result = run(
        app,
        widget,
        """
        print(json.dumps([app_tables.readings.get(city='Paris')['temp'],
                          app_tables.readings.get(city='Nowhere')]))
        try:
            app_tables.readings.get(city='Oslo')
        except tables.TableError as error:
            print(json.dumps(str(error)))
        """,
    )
    first, error = printed(result)
    assert first == [11, None]
    assert "More than one row" in error


def test_update_delete_and_delete_all_rows(app, widget):
    result = run(
        app,
        widget,
        """
        row = app_tables.readings.get(city='Paris')
        row.update(temp=12.5, description=None)
        row['city'] = 'Lyon'
        fresh = app_tables.readings.get_by_id(row.get_id())
        print(json.dumps([fresh['city'], fresh['temp'], fresh['description']]))
        app_tables.readings.get(city='Lima').delete()
        print(json.dumps(len(app_tables.readings.search())))
        print(json.dumps(app_tables.readings.get_by_id(row.get_id() + '0') is None))
        app_tables.readings.delete_all_rows()
        print(json.dumps([len(app_tables.readings.search()), app_tables.readings.list_columns()]))
        """,
    )
    assert printed(result) == [
        ["Lyon", 12.5, None],
        4,
        True,
        [
            0,
            [
                {"name": "when", "type": "datetime"},
                {"name": "city", "type": "string"},
                {"name": "temp", "type": "number"},
                {"name": "description", "type": "string"},
            ],
        ],
    ]
    with app.app_context():
        assert db.session.scalar(db.select(DataTable.row_count)) == 0
        assert db.session.scalar(db.select(DataTable.byte_count)) == 0


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("add_row(temp='warm')", "Column 'temp' of table 'readings' holds a number"),
        ("add_row(when=date(2026, 1, 1))", "Column 'when' of table 'readings' holds a datetime"),
        ("add_row(city=3)", "Column 'city' of table 'readings' holds text"),
        ("add_row(humidity=3)", "Table 'readings' has no column 'humidity'"),
        ("search(humidity=3)", "Table 'readings' has no column 'humidity'"),
        ("search(temp=q.like('1%'))", "q.like works on text columns"),
        ("search(tables.order_by('nope'))", "has no such column"),
    ],
)
def test_bad_values_and_unknown_columns_are_table_errors_naming_what_is_wrong(
    app, widget, call, expected
):
    result = run(
        app,
        widget,
        f"""
        try:
            list(app_tables.readings.{call})
        except tables.TableError as error:
            print(json.dumps(str(error)))
        """,
        seed=False,
    )
    [message] = printed(result)
    assert expected in message
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataRow)) == 0


def test_an_unknown_table_is_an_attribute_error(app, widget):
    result = run(
        app,
        widget,
        """
        try:
            app_tables.nothing_here
        except AttributeError as error:
            print(json.dumps(str(error)))
        """,
        seed=False,
    )
    assert "no table named 'nothing_here'" in printed(result)[0]


def test_a_run_cannot_reach_another_widgets_tables_whatever_it_sends(app, owner, widget):
    other = make_widget_with_table(app, owner, table="private_data", title="Other")
    with app.app_context():
        table = schema.table_named(other, "private_data")
        from pyspace.tables.rows import add_row

        other_row = add_row(table, {"city": "SECRET-CITY"})
        other_table_id = table.id
    result = run(
        app,
        widget,
        f"""
        from anvil import _channel
        attempts = [
            {{"op": "tables_search", "table": "private_data"}},
            {{"op": "tables_search", "table": {other_table_id}}},
            {{"op": "tables_get_by_id", "table": "readings", "id": "{other_row}"}},
            {{"op": "tables_update_row", "table": "readings", "id": {other_row},
              "values": {{"city": "pwned"}}}},
            {{"op": "tables_delete_row", "table": "readings", "id": "{other_row}"}},
            {{"op": "tables_delete_all_rows", "table": "private_data"}},
            {{"op": "tables_search", "table": "readings",
              "filters": [{{"column": "city", "query": {{"op": "eq", "value": "SECRET-CITY"}}}}]}},
        ]
        for attempt in attempts:
            print(json.dumps(_channel.ask(attempt)))
        """,
        seed=False,
    )
    answers = printed(result)
    assert answers[-1] == {"ok": True, "rows": []}
    # get_by_id answers None for a row it can't find, as for any missing id.
    assert answers[2] == {"ok": True, "row": None}
    assert all(answer["ok"] is False for answer in answers[:2] + answers[3:-1]), answers
    assert "SECRET-CITY" not in result.stdout
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataRow)) == 1
        from pyspace.tables.queries import row_values

        table = schema.table_named(other, "private_data")
        assert row_values(table.columns, [other_row])[other_row]["city"] == "SECRET-CITY"


def test_quota_on_rows_is_a_clear_error(app, app_config, widget):
    app.config["TABLES_MAX_ROWS"] = 3
    result = run(
        app,
        widget,
        """
        try:
            for n in range(5):
                app_tables.readings.add_row(temp=n)
        except tables.TableError as error:
            print(json.dumps([n, str(error)]))
        """,
        seed=False,
    )
    [[stopped_at, message]] = printed(result)
    assert stopped_at == 3 and "at most 3 rows" in message
