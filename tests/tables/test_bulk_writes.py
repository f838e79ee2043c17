"""Bulk work on data tables is written in short transactions of bounded size, so one account's
big import or delete never makes another account's writes wait out the busy timeout; an import
can't run twice at once per widget, says how far it has got, and is refused by the quota before
anything is written."""

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy
from sqlalchemy import event

from pyspace import database
from pyspace.extensions import db
from pyspace.models import VALUE_INDEXES, DataRow, DataTable, TableImport, Widget, utcnow
from pyspace.tables import queries, schema
from pyspace.tables.rows import add_rows
from tests.conftest import PASSWORD, Accounts

BATCH = 100


@pytest.fixture
def app_config(app_config):
    return {**app_config, "BULK_WRITE_BATCH_ROWS": BATCH}


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Logger")


def _table(app, widget_id, rows: int = 0) -> int:
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "readings")
        schema.add_column(table, "city", "text")
        schema.add_column(table, "temp", "number")
        if rows:
            add_rows(table, [{"city": f"c{n}", "temp": n} for n in range(rows)])
        return table.id


def _csv(rows: int) -> str:
    return "city,temp\n" + "".join(f"city{n},{n / 2}\n" for n in range(rows))


class Transactions:
    """Rows each committed transaction inserted into and deleted from data_rows."""

    def __init__(self, engine):
        self.committed: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._engine = engine
        self._listeners = (
            ("after_cursor_execute", self._statement),
            ("commit", self._commit),
            ("rollback", self._rollback),
        )
        for name, listener in self._listeners:
            event.listen(engine, name, listener)

    def close(self) -> None:
        # The engine outlives the test (apps are shared between tests): a listener left behind
        # would take the next test's counts.
        for name, listener in self._listeners:
            event.remove(self._engine, name, listener)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        pending = conn.info.setdefault("pending", [0, 0])
        if statement.startswith("INSERT INTO data_rows"):
            pending[0] += len(parameters) if executemany else 1
        elif statement.startswith("DELETE FROM data_rows"):
            pending[1] += cursor.rowcount

    def _commit(self, conn):
        inserted, deleted = conn.info.pop("pending", [0, 0])
        if inserted or deleted:
            with self._lock:
                self.committed.append((inserted, deleted))

    def _rollback(self, conn):
        conn.info.pop("pending", None)


@pytest.fixture
def transactions(app):
    with app.app_context():
        counting = Transactions(db.engine)
    yield counting
    counting.close()


def _row_count(app, table_id) -> int:
    with app.app_context():
        return db.session.query(DataRow).filter_by(table_id=table_id).count()


def test_an_import_is_written_in_transactions_of_at_most_the_batch_size(
    app, alice, widget_id, transactions
):
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": _csv(1050), "step": "apply"}, htmx=True)
    assert response.status_code == 200
    assert "Imported 1050 row(s)." in response.headers["HX-Trigger"]
    inserted = [rows for rows, _ in transactions.committed]
    # At most BATCH rows each; fewer when a batch would hold the database too long (a slow
    # machine), so at least 11 transactions.
    assert sum(inserted) == 1050 and max(inserted) <= BATCH and len(inserted) >= 11
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        assert table.row_count == 1050
        assert db.session.scalar(db.select(db.func.count()).select_from(TableImport)) == 0


def test_deleting_all_rows_or_the_table_is_done_in_bounded_transactions(
    app, alice, widget_id, transactions
):
    table_id = _table(app, widget_id, rows=450)
    response = alice.post(f"/widgets/{widget_id}/tables/{table_id}/delete", htmx=True)
    assert response.status_code == 200
    deleted = [rows for _, rows in transactions.committed if rows]
    assert sum(deleted) == 450 and max(deleted) <= BATCH
    with app.app_context():
        assert db.session.get(DataTable, table_id) is None
        assert db.session.query(DataRow).count() == 0


def test_deleting_a_widget_empties_its_tables_in_bounded_transactions(
    app, alice, widget_id, transactions
):
    _table(app, widget_id, rows=250)
    assert alice.post(f"/widgets/{widget_id}/delete").status_code == 302
    deleted = [rows for _, rows in transactions.committed if rows]
    assert sum(deleted) == 250 and max(deleted) <= BATCH
    with app.app_context():
        assert db.session.get(Widget, widget_id) is None


def test_an_import_over_the_quota_is_refused_before_any_row_is_written(
    app, alice, widget_id, transactions
):
    app.config["TABLES_MAX_ROWS"] = 500
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": _csv(501), "step": "apply"}, htmx=True)
    assert response.status_code == 422 and "at most 500 rows" in response.get_data(as_text=True)
    assert transactions.committed == [] and _row_count(app, table_id) == 0


def test_a_second_import_into_the_same_widget_is_refused_while_one_runs(app, alice, widget_id):
    table_id = _table(app, widget_id)
    with app.app_context():
        db.session.add(
            TableImport(widget_id=widget_id, table_id=table_id, rows_total=5000, rows_done=1200)
        )
        db.session.commit()
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": _csv(3), "step": "apply"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "An import into this widget&#39;s tables is running (1,200 of 5,000 rows)" in body
    assert _row_count(app, table_id) == 0


def test_an_import_whose_process_died_does_not_block_the_next_one(app, alice, widget_id):
    table_id = _table(app, widget_id)
    with app.app_context():
        db.session.add(
            TableImport(
                widget_id=widget_id,
                table_id=table_id,
                rows_total=5000,
                updated_at=utcnow() - timedelta(minutes=10),
            )
        )
        db.session.commit()
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    assert alice.post(url, {"csv": _csv(3), "step": "apply"}).status_code == 302
    assert _row_count(app, table_id) == 3


def test_the_import_status_partial_shows_progress_only_while_an_import_runs(
    app, alice, widget_id, make_client
):
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import/status"
    assert "Importing" not in alice.client.get(url).get_data(as_text=True)
    with app.app_context():
        db.session.add(
            TableImport(widget_id=widget_id, table_id=table_id, rows_total=40000, rows_done=12000)
        )
        db.session.commit()
    body = alice.client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Importing: 12,000 of 40,000 rows" in body and 'hx-trigger="load delay:1s"' in body
    stranger = make_client()
    stranger.register("mallory")
    assert stranger.client.get(url).status_code == 404


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Writers give up after 2 s instead of 10: an import that held the database for longer
    (one transaction for everything) fails the other account's writes quickly and surely."""
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 2000)


def test_another_accounts_log_ins_and_saves_succeed_during_a_large_import(
    short_busy_timeout, app, alice, widget_id, make_client, transactions
):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's single writer")
    app.config["BULK_WRITE_BATCH_ROWS"] = 200
    rows = 20_000
    table_id = _table(app, widget_id)
    csv_text = _csv(rows)
    token = alice.csrf_token()
    outcome: dict = {}

    def import_all():
        outcome["import"] = alice.client.post(
            f"/widgets/{widget_id}/tables/{table_id}/import",
            data={"csv": csv_text, "step": "apply", "csrf_token": token},
        ).status_code

    bob = make_client()
    assert bob.register("bob").status_code == 302
    bobs_widget = bob.create_widget("Bob's", server_code="print('hello from bob')\n")
    importer = threading.Thread(target=import_all)
    importer.start()
    deadline = time.monotonic() + 60
    while _row_count(app, table_id) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    # While alice's rows go in, bob logs in, presses Run, saves his widget and makes a new one.
    statuses = []
    for round_ in range(3):
        fresh = Accounts(app.test_client())
        statuses.append(fresh.login("bob", PASSWORD).status_code)
        run = fresh.post(f"/widgets/{bobs_widget}/run", headers={"Accept": "application/json"})
        statuses.append(run.status_code if run.get_json()["ok"] else run.get_json())
        statuses.append(fresh.save_widget(bobs_widget, description=f"round {round_}").status_code)
        statuses.append(
            fresh.post("/widgets/new", {"title": f"New {round_}", "kind": "script"}).status_code
        )
    still_importing = _row_count(app, table_id) < rows
    importer.join()
    assert statuses == [302, 200, 302, 302] * 3
    assert still_importing, "bob's writes should have overlapped the import"
    assert outcome["import"] == 302 and _row_count(app, table_id) == rows
    inserted = [count for count, _ in transactions.committed if count]
    assert sum(inserted) == rows and max(inserted) <= 200


def test_bulk_batches_are_sized_to_hold_the_database_briefly_and_never_beyond_the_setting():
    sizer = database.BatchSizer(5000)
    assert sizer.size == database.FIRST_BATCH_ROWS
    # 200 rows took a tenth of the hold: the next may take 4 times as many, no more.
    sizer.took(200, database.BATCH_HOLD_SECONDS / 10)
    assert sizer.size == 200 * database.BATCH_GROWTH
    # 800 rows took twice the hold: the next takes half as many.
    sizer.took(800, database.BATCH_HOLD_SECONDS * 2)
    assert sizer.size == 400
    # However fast, never beyond the setting; however slow, at least one row.
    for _ in range(10):
        sizer.took(sizer.size, 1e-6)
    assert sizer.size == 5000
    sizer.took(5000, 3600.0)
    assert sizer.size == 1
    assert database.BatchSizer(3).size == 3


def test_each_cell_enters_only_the_value_index_of_its_own_type(app, widget_id):
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "readings")
        for name, type_ in (("city", "text"), ("temp", "number"), ("when", "date")):
            schema.add_column(table, name, type_)
        add_rows(table, [{"city": "Oslo", "temp": 3, "when": None}] * 4)
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            defined = dict(
                db.session.execute(
                    sqlalchemy.text(
                        "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'data_cells' "
                        "AND name LIKE 'ix_data_cells_%' AND name != 'ix_data_cells_fulltext'"
                    )
                ).all()
            )
        else:
            defined = dict(
                db.session.execute(
                    sqlalchemy.text(
                        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
                        "'data_cells' AND indexname LIKE 'ix_data_cells_%' "
                        "AND indexname != 'ix_data_cells_fulltext'"
                    )
                ).all()
            )
    assert set(defined) == set(VALUE_INDEXES)
    for name, field in VALUE_INDEXES.items():
        assert f"{field} IS NOT NULL" in defined[name].replace("(", "").replace(")", ""), name


def test_an_ordered_search_walks_the_partial_index_of_its_column(app, widget_id):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's query plan")
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "readings")
        temp = schema.add_column(table, "temp", "number")
        add_rows(table, [{"temp": n} for n in range(50)])
        statements: list = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().startswith("SELECT data_cells.row_id"):
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            ids = queries.row_ids(table, [], [queries.Order(temp, ascending=False)], 0, 10)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert len(ids) == 10
        statement, parameters = statements[0]
        plan = " ".join(
            str(row[-1])
            for row in db.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters
            )
        )
    # Read from the index in order: no sort of the whole column.
    assert "ix_data_cells_number" in plan and "TEMP B-TREE" not in plan, plan
