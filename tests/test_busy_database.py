"""A write that can't get the database in time (another writer holds it past the busy timeout)
answers 503 with Retry-After and changes nothing, never a 500; a run's own record is tried
again until the database is free rather than lost."""

import sqlite3
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from pyspace import database
from pyspace.extensions import db
from pyspace.models import Run, Widget
from pyspace.runs import history
from pyspace.sandbox.results import RunResult


@pytest.fixture
def short_busy_timeout(monkeypatch):
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)


@pytest.fixture
def sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("holds SQLite's write lock from outside")


class WriteLock:
    """Another process's writer holding the database (BEGIN IMMEDIATE on its own connection)."""

    def __init__(self, app):
        with app.app_context():
            self.path = Path(db.engine.url.database)
        self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)

    def hold(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.connection.execute("COMMIT")

    def release_after(self, seconds: float) -> threading.Thread:
        def later():
            time.sleep(seconds)
            self.release()

        thread = threading.Thread(target=later)
        thread.start()
        return thread


@pytest.fixture
def write_lock(short_busy_timeout, sqlite_only, app):
    with app.app_context():
        db.engine.dispose()  # new connections take the short busy timeout
    lock = WriteLock(app)
    yield lock
    lock.connection.close()


def _title(app, widget_id) -> str:
    with app.app_context():
        return db.session.get(Widget, widget_id).title


def test_a_save_that_cannot_get_the_database_answers_503_with_retry_after(app, alice, write_lock):
    widget_id = alice.create_widget("Before")
    token = alice.csrf_token()
    write_lock.hold()
    try:
        response = alice.client.post(
            f"/widgets/{widget_id}/edit",
            data={"title": "After", "visibility": "private", "csrf_token": token},
        )
    finally:
        write_lock.release()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "busy" in response.get_data(as_text=True)
    assert _title(app, widget_id) == "Before"


def test_a_json_request_gets_its_503_as_json(app, alice, write_lock):
    widget_id = alice.create_widget("Before")
    token = alice.csrf_token()
    write_lock.hold()
    try:
        response = alice.client.post(
            f"/widgets/{widget_id}/tables",
            data={"name": "readings", "csrf_token": token},
            headers={"Accept": "application/json"},
        )
    finally:
        write_lock.release()
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert response.get_json()["ok"] is False


def test_a_log_in_that_cannot_get_the_database_answers_503(app, accounts, write_lock):
    assert accounts.register("alice").status_code == 302
    accounts.logout()
    token = accounts.csrf_token()
    write_lock.hold()
    try:
        response = accounts.client.post(
            "/login", data={"username": "alice", "password": "x", "csrf_token": token}
        )
    finally:
        write_lock.release()
    assert response.status_code == 503 and "Retry-After" in response.headers


def test_other_database_errors_stay_500s(app, alice, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from pyspace import access

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(access, "owned_widget_or_404", broken)
    widget_id = alice.create_widget("Before")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = alice.post(f"/widgets/{widget_id}/delete")
    assert response.status_code == 500 and "Retry-After" not in response.headers


def test_a_runs_record_is_written_once_the_database_is_free_again(app, alice, write_lock):
    widget_id = alice.create_widget("Hello")
    write_lock.hold()
    releaser = write_lock.release_after(0.6)  # six busy timeouts
    with app.app_context():
        run = history.record_finished(
            widget_id, "run", None, RunResult(ok=True, stdout="hi\n"), datetime(2026, 12, 1)
        )
        run_id = run.id
    releaser.join()
    with app.app_context():
        stored = db.session.get(Run, run_id)
        assert stored is not None and stored.stdout == "hi\n" and stored.status == "completed"


def test_a_run_press_while_another_writer_briefly_holds_the_database_is_recorded(
    app, alice, write_lock
):
    widget_id = alice.create_widget("Hello", server_code="print('hi')\n")
    token = alice.csrf_token()
    write_lock.hold()
    # Released while the run is on its way: its record waits for the database and gets in.
    releaser = write_lock.release_after(0.5)
    response = alice.client.post(
        f"/widgets/{widget_id}/run", headers={"Accept": "application/json", "X-CSRFToken": token}
    )
    releaser.join()
    assert response.status_code == 200 and response.get_json()["ok"]
    with app.app_context():
        assert db.session.query(Run).filter_by(widget_id=widget_id).count() == 1


def test_history_pruning_deletes_a_bounded_batch_at_a_time(app, alice):
    widget_id = alice.create_widget("Hello")
    app.config["HISTORY_MAX_RUNS"] = 1
    with app.app_context():
        for _ in range(history.PRUNE_BATCH_RUNS + 10):
            db.session.add(Run(widget_id=widget_id, kind="run", status="completed"))
        db.session.commit()
        assert history.prune_history(widget_id) == history.PRUNE_BATCH_RUNS
        assert history.prune_history(widget_id) == 9
        assert db.session.query(Run).filter_by(widget_id=widget_id).count() == 1
