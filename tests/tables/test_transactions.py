"""Transactions as Anvil has them: @in_transaction (retried on conflict), Transaction() with
abort(), all-or-nothing writes, and a time bound so an open transaction never holds the
database's writer for long. Runs on PostgreSQL too when PYSPACE_TEST_DATABASE_URL names one."""

import threading
import time

import pytest
from sqlalchemy import event

from pyspace.extensions import db
from pyspace.models import DataRow
from pyspace.sandbox.services import RunContext
from pyspace.tables import schema, transactions
from pyspace.tables.rows import add_row, add_rows
from tests.tables.helpers import TABLE_LIMITS, make_widget_with_tables, run_code
from tests.tables.test_api import HEADER, printed

COUNTER = """
@tables.in_transaction
def bump():
    row = app_tables.counters.get(name='hits')
    row['count'] = row['count'] + 1

for _ in range(100):
    bump()
print(json.dumps('done'))
"""


@pytest.fixture(autouse=True)
def limits(app_config):
    app_config.update({**TABLE_LIMITS, "RUN_WALL_SECONDS": 120.0, "RUN_CPU_SECONDS": 60})


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def widget(app, owner):
    widget_id = make_widget_with_tables(
        app, owner, {"counters": [("name", "text"), ("count", "number")]}
    )
    with app.app_context():
        add_row(schema.table_named(widget_id, "counters"), {"name": "hits", "count": 0})
    return widget_id


def _count(app, widget_id):
    with app.app_context():
        from pyspace.tables.queries import row_values

        table = schema.table_named(widget_id, "counters")
        ids = db.session.scalars(db.select(DataRow.id).filter_by(table_id=table.id)).all()
        values = row_values(table.columns, list(ids))
        return sorted((v["name"], v["count"]) for v in values.values())


def test_two_runs_incrementing_one_counter_in_transactions_end_at_exactly_200(
    app, widget, make_user
):
    other = make_user("other")
    results = {}

    def go(actor):
        results[actor] = run_code(app, widget, HEADER + COUNTER, actor)

    threads = [threading.Thread(target=go, args=(actor,)) for actor in (None, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for result in results.values():
        assert printed(result) == ["done"]
    assert _count(app, widget) == [("hits", 200)]


def test_transaction_abort_and_errors_keep_nothing(app, widget):
    result = run_code(
        app,
        widget,
        HEADER
        + """
with tables.Transaction() as txn:
    app_tables.counters.add_row(name='aborted', count=1)
    txn.abort()
try:
    with tables.Transaction():
        app_tables.counters.add_row(name='failed', count=1)
        app_tables.counters.get(name='hits').update(count=5)
        raise ValueError('boom')
except ValueError:
    pass
with tables.Transaction(relaxed=True):
    app_tables.counters.add_row(name='kept', count=1)
    try:
        app_tables.counters.add_row(name='bad value', count='many')
    except tables.TableError:
        pass
    with tables.batch_update:
        app_tables.counters.add_row(name='nested', count=2)
@tables.in_transaction(relaxed=True)
def add_two():
    app_tables.counters.add_rows([dict(name='a', count=1), dict(name='b', count=2)])
add_two()
print(json.dumps(len(app_tables.counters.search())))
""",
    )
    assert printed(result) == [5]
    assert _count(app, widget) == [("a", 1), ("b", 2), ("hits", 0), ("kept", 1), ("nested", 2)]


class CellInsertFailedError(Exception):
    """Stands for the database failing part-way through an add_rows."""


def test_a_failing_add_rows_inside_a_transaction_leaves_none_of_its_rows(app, widget):
    # Batches of 2 rows: outside a transaction the 5 rows would go in 3 commits, and the third
    # one (holding 'boom') fails after 4 rows went in.
    app.config["BULK_WRITE_BATCH_ROWS"] = 2
    run = RunContext(widget_id=widget, actor_id=None)
    rows = [{"name": name, "count": 1} for name in ("a", "b", "c", "d", "boom")]

    def fail_on_boom(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO data_cells") and "boom" in repr(parameters):
            raise CellInsertFailedError

    def in_transaction(action):
        return transactions.within(run, lambda: action(schema.table_named(widget, "counters")))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", fail_on_boom)
        try:
            transactions.open_transaction(run, relaxed=False)
            in_transaction(lambda table: add_row(table, {"name": "before", "count": 1}))
            with pytest.raises(CellInsertFailedError):
                in_transaction(lambda table: add_rows(table, rows))
            in_transaction(lambda table: add_row(table, {"name": "after", "count": 1}))
            transactions.close_transaction(run, abort=False)
        finally:
            event.remove(engine, "before_cursor_execute", fail_on_boom)
        counted = schema.table_named(widget, "counters")
        assert (counted.row_count, counted.byte_count > 0) == (3, True)
    # The transaction's other writes stay; the failed add_rows left nothing.
    assert _count(app, widget) == [("after", 1), ("before", 1), ("hits", 0)]


def test_a_transaction_open_too_long_is_cancelled_and_releases_the_database(app, widget):
    app.config["TABLES_TRANSACTION_SECONDS"] = 1.0
    result = run_code(
        app,
        widget,
        HEADER
        + """
import time
try:
    with tables.Transaction():
        app_tables.counters.add_row(name='slow', count=1)
        time.sleep(1.5)
        app_tables.counters.add_row(name='slower', count=1)
except tables.TransactionConflict as error:
    print(json.dumps(['conflict', 'longer than 1 s' in str(error)]))
try:
    with tables.Transaction():
        app_tables.counters.add_row(name='idle', count=1)
        time.sleep(1.5)
except tables.TransactionConflict:
    print(json.dumps('conflict at close'))
""",
    )
    assert printed(result) == [["conflict", True], "conflict at close"]
    assert _count(app, widget) == [("hits", 0)]


def test_a_run_ending_inside_a_transaction_gives_the_database_back(app, widget):
    result = run_code(
        app,
        widget,
        HEADER
        + """
txn = tables.Transaction()
txn.__enter__()
app_tables.counters.add_row(name='never committed', count=1)
print(json.dumps('left open'))
""",
    )
    assert printed(result) == ["left open"]
    started = time.monotonic()
    with app.app_context():
        add_row(schema.table_named(widget, "counters"), {"name": "after", "count": 1})
    # Well within the transaction bound (5 s) and SQLite's busy timeout.
    assert time.monotonic() - started < 2
    assert _count(app, widget) == [("after", 1), ("hits", 0)]
