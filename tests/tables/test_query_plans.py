"""Searches run as SQL in the database: over 100,000 rows, a page of a search fetches that page
and little more from the database, whatever the query (the channel services, called directly;
runs on PostgreSQL too when PYSPACE_TEST_DATABASE_URL names one)."""

import time

import pytest
from sqlalchemy import insert, select, update

from pyspace.extensions import db
from pyspace.models import DataCell, DataRow, DataTable
from pyspace.sandbox.services import RunContext
from pyspace.tables.channel import SERVICES
from pyspace.tables.schema import table_named
from tests.tables.helpers import make_widget_with_table

ROWS = 100_000
PAGE = 20
CITIES = ["Oslo", "Paris", "Rome", "Lima"]
COLUMNS = [("city", "text"), ("temp", "number"), ("description", "text")]


def _fill(table: DataTable) -> None:
    """ROWS rows, straight into the tables (as an import would, but faster)."""
    columns = {column.name: column.id for column in table.columns}
    batch = 10_000
    connection = db.session.connection()
    for _ in range(0, ROWS, batch):
        connection.execute(insert(DataRow.__table__), [{"table_id": table.id}] * batch)
    ids = list(connection.scalars(select(DataRow.id).where(DataRow.table_id == table.id)))
    texts, numbers = [], []
    for n, row_id in enumerate(ids):
        words = "light rain" if n % 1000 == 7 else "clear sky"
        texts.append({"row_id": row_id, "column_id": columns["city"], "text_value": CITIES[n % 4]})
        texts.append({"row_id": row_id, "column_id": columns["description"], "text_value": words})
        numbers.append({"row_id": row_id, "column_id": columns["temp"], "number_value": n % 1000})
    for cells in (texts, numbers):
        for start in range(0, len(cells), 20_000):
            connection.execute(insert(DataCell.__table__), cells[start : start + 20_000])
    db.session.execute(update(DataTable).where(DataTable.id == table.id).values(row_count=ROWS))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # As autovacuum would soon after a big import: the planner's statistics.
        with db.engine.connect() as analyze:
            analyze.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


class RowsFetched:
    """Counts statements and the rows the database hands back, on the session's connection."""

    def __init__(self) -> None:
        self.rows = 0
        self.statements = 0

    def __enter__(self) -> "RowsFetched":
        raw = db.session.connection().connection.dbapi_connection
        self.raw = raw
        self.saved = raw.row_factory
        if db.engine.dialect.name == "sqlite":
            raw.row_factory = self._sqlite_row
        else:
            raw.row_factory = self._psycopg_rows
        return self

    def _sqlite_row(self, cursor, row):
        self.rows += 1
        return row

    def _psycopg_rows(self, cursor):
        def make(values):
            self.rows += 1
            return tuple(values)

        return make

    def __exit__(self, *exc) -> None:
        self.raw.row_factory = self.saved


@pytest.fixture
def run(app, make_user):
    widget_id = make_widget_with_table(app, make_user(), columns=COLUMNS)
    with app.app_context():
        _fill(table_named(widget_id, "readings"))
        yield RunContext(widget_id=widget_id, actor_id=None)


def _eq(column, value):
    return {"column": column, "query": {"op": "eq", "value": value}}


SEARCHES = {
    "column=value": [_eq("city", "Rome")],
    "positional any_of over columns": [
        {
            "query": {
                "op": "any_of",
                "values": [],
                "columns": {
                    "city": {"op": "ilike", "value": "li%"},
                    "temp": {"op": "gt", "value": 990},
                },
            }
        }
    ],
    "between": [
        {
            "column": "temp",
            "query": {
                "op": "all_of",
                "values": [{"op": "ge", "value": 10}, {"op": "lt", "value": 500}],
                "columns": {},
            },
        }
    ],
    "full_text_match": [
        {"column": "description", "query": {"op": "full_text_match", "value": "RAIN"}}
    ],
}


@pytest.mark.long
def test_a_page_of_a_search_over_100k_rows_fetches_only_that_page(run):
    SERVICES["tables_describe"]({"table": "readings"}, run)  # the table's lookup, warmed
    for name, filters in SEARCHES.items():
        for order in ([], [{"column": "temp", "ascending": False}]):
            request = {"table": "readings", "filters": filters, "order": order, "limit": PAGE}
            with RowsFetched() as fetched:
                started = time.monotonic()
                answer = SERVICES["tables_search"](request, run)
                seconds = time.monotonic() - started
            assert answer["ok"], (name, answer)
            assert len(answer["rows"]) == PAGE, name
            # The page's ids, its 3 cells a row, and the table's own lookup (table, columns):
            # no more. Loading the matching rows into Python would be thousands.
            assert fetched.rows <= PAGE + PAGE * len(COLUMNS) + 1 + len(COLUMNS), (name, order)
            assert seconds < 10, (name, order, seconds)

            with RowsFetched() as fetched:
                counted = SERVICES["tables_count"](request, run)
            assert counted["ok"] and counted["count"] >= PAGE, name
            assert fetched.rows <= 1 + 1 + len(COLUMNS), name

    answers = {
        name: SERVICES["tables_count"]({"table": "readings", "filters": filters}, run)["count"]
        for name, filters in SEARCHES.items()
    }
    assert answers == {
        "column=value": 25_000,
        # Lima (a quarter), or temp 991..999 (900 rows, a third of them Lima).
        "positional any_of over columns": 25_600,
        "between": 49_000,
        "full_text_match": 100,
    }
