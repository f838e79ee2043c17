"""The query language of `anvil.tables.query`, as Anvil has it, in real sandboxed runs: all_of /
any_of / none_of / not_ for one column and across columns, between, full_text_match,
page_size, fetch_only, only_cols, and order_by mixed with queries."""

import pytest

from tests.tables.helpers import TABLE_LIMITS, make_widget_with_table
from tests.tables.test_api import printed, run


@pytest.fixture(autouse=True)
def limits(app_config):
    app_config.update(TABLE_LIMITS)


@pytest.fixture
def widget(app, make_user):
    return make_widget_with_table(app, make_user())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Positional combinations across columns (the landlord lookup's shape).
        (
            "q.any_of(city=q.ilike('os%'), description=q.ilike('%CLEAR%'))",
            ["Oslo", "Paris", "Rome", "Oslo"],
        ),
        ("q.all_of(city='Oslo', temp=q.less_than(0))", ["Oslo"]),
        ("q.none_of(city='Oslo', temp=q.greater_than(15))", ["Paris"]),
        ("q.not_(city='Oslo')", ["Paris", "Rome", "Lima"]),
        ("q.any_of(q.all_of(city='Oslo', temp=q.greater_than(0)), city='Lima')", ["Oslo", "Lima"]),
        ("q.any_of(city='Rome'), q.any_of(city='Rome', temp=11)", ["Rome"]),
        ("q.any_of(city='Rome', temp=11), city=q.not_('Paris')", ["Rome"]),
        # One column's query given several conditions.
        ("temp=q.all_of(q.greater_than(0), q.less_than(15))", ["Oslo", "Paris"]),
        ("temp=q.any_of(q.less_than(0), q.greater_than(18))", ["Oslo", "Lima"]),
        ("temp=q.none_of(q.less_than(0), q.greater_than(18))", ["Oslo", "Paris", "Rome"]),
        ("city=q.not_('Oslo', 'Rome')", ["Paris", "Lima"]),
        ("city=q.any_of()", []),
        ("city=q.all_of()", ["Oslo", "Paris", "Rome", "Oslo", "Lima"]),
        # between: min included, max excluded unless asked.
        ("temp=q.between(3.5, 17.25)", ["Oslo", "Paris"]),
        ("temp=q.between(3.5, 17.25, min_inclusive=False)", ["Paris"]),
        ("temp=q.between(3.5, 17.25, max_inclusive=True)", ["Oslo", "Paris", "Rome"]),
        ("when=q.between(t0, t0 + timedelta(hours=2))", ["Oslo", "Paris"]),
        # full_text_match: words stemmed, any case, punctuation ignored; every word must appear.
        ("description=q.full_text_match('clear sky')", ["Paris", "Rome"]),
        ("description=q.full_text_match('SKY, clear!')", ["Paris", "Rome"]),
        ("description=q.full_text_match('sunny')", ["Rome"]),
        ("description=q.full_text_match('sun')", []),
        ("description=q.full_text_match('rains')", ["Oslo"]),
        ("description=q.full_text_match('rain fog')", []),
        # raw=True: PostgreSQL's tsquery syntax, on both databases.
        ("description=q.full_text_match('rain | fog', raw=True)", ["Oslo", "Lima"]),
        ("description=q.full_text_match('clear & !sunny', raw=True)", ["Paris"]),
        ("description=q.full_text_match('!clear', raw=True)", ["Oslo", "Lima"]),
        ("description=q.full_text_match('sun:*', raw=True)", ["Rome"]),
        ("description=q.full_text_match('clear <-> sky', raw=True)", ["Paris", "Rome"]),
        ("description=q.full_text_match('sky <-> clear', raw=True)", []),
        ("description=q.full_text_match('(fog | rain) & !light', raw=True)", ["Lima"]),
        ("description=q.full_text_match('100%_')", []),
    ],
)
def test_query_language(app, widget, query, expected):
    result = run(app, widget, f"print(json.dumps(cities(app_tables.readings.search({query}))))")
    assert printed(result) == [expected]


def test_order_by_positional_and_mixed_with_queries(app, widget):
    result = run(
        app,
        widget,
        """
        rows = app_tables.readings.search(
            q.any_of(city='Oslo', temp=q.greater_than(15)),
            tables.order_by('temp', ascending=False),
        )
        print(json.dumps(cities(rows)))
        rows = app_tables.readings.search(
            tables.order_by('city'), tables.order_by('temp'), q.not_(city='Lima'))
        print(json.dumps([[r['city'], r['temp']] for r in rows]))
        print(json.dumps(len(app_tables.readings.search(q.any_of(city='Oslo', temp=11)))))
        print(json.dumps(app_tables.readings.get(q.all_of(city='Oslo', temp=-2))['temp']))
        """,
    )
    assert printed(result) == [
        ["Lima", "Rome", "Oslo", "Oslo"],
        [["Oslo", -2], ["Oslo", 3.5], ["Paris", 11], ["Rome", 17.25]],
        3,
        -2,
    ]


def test_page_size_fetch_only_and_only_cols(app, widget):
    result = run(
        app,
        widget,
        """
        from anvil import _channel
        asked = []
        real_ask = _channel.ask
        def counting(message):
            asked.append(message)
            return real_ask(message)
        _channel.ask = counting
        rows = list(app_tables.readings.search(q.page_size(2), tables.order_by('when')))
        searches = [m for m in asked if m['op'] == 'tables_search']
        print(json.dumps([cities(rows), [m['limit'] for m in searches]]))

        rows = list(app_tables.readings.search(q.fetch_only('city'), tables.order_by('when')))
        loaded = sorted(rows[0]._values)
        asked.clear()
        temp = rows[0]['temp']
        print(json.dumps([loaded, temp, [m['op'] for m in asked]]))

        row = app_tables.readings.search(q.only_cols('city'), city='Lima')[0]
        try:
            row['temp']
        except tables.NoSuchColumnError as error:
            print(json.dumps(['hidden', 'temp' in row, dict(row)]))
        """,
    )
    assert printed(result) == [
        [["Oslo", "Paris", "Rome", "Oslo", "Lima"], [2, 2, 2]],
        [["city"], 3.5, ["tables_get_by_id"]],
        ["hidden", False, {"city": "Lima"}],
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("city=q.any_of(city='x')", "combines columns"),
        ("q.any_of(nope='x')", "NoSuchColumnError: Table 'readings' has no column 'nope'"),
        ("temp=q.full_text_match('x')", "full_text_match works on text columns"),
        ("description=q.full_text_match('(rain', raw=True)", "has no ')'"),
        ("description=q.full_text_match('rain &', raw=True)", "ends where a word"),
        ("'not a query'", "search takes order_by"),
    ],
)
def test_bad_queries_are_table_errors_naming_what_is_wrong(app, widget, query, message):
    result = run(
        app,
        widget,
        f"""
        try:
            list(app_tables.readings.search({query}))
        except tables.TableError as error:
            print(json.dumps(type(error).__name__ + ': ' + str(error)))
        """,
        seed=False,
    )
    assert message in printed(result)[0]
