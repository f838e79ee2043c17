"""The SQLite settings apply to the app's own engine, and to no other engine in the process."""

import contextlib

import pytest
import sqlalchemy

from pyspace import create_app
from pyspace.extensions import db
from pyspace.sandbox.fairness import PAGE_THREADS


def _pragma(connection, name: str):
    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_the_apps_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite settings")
    with app.app_context(), db.engine.connect() as connection:
        assert _pragma(connection, "foreign_keys") == 1
        assert _pragma(connection, "busy_timeout") == 10_000
        assert _pragma(connection, "journal_mode") == "wal"
        assert _pragma(connection, "synchronous") == 2  # FULL


def test_another_engine_in_the_same_process_keeps_sqlites_defaults(app, tmp_path):
    other = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with other.connect() as connection:
            assert _pragma(connection, "foreign_keys") == 0
            assert _pragma(connection, "journal_mode") == "delete"
    finally:
        other.dispose()


@pytest.fixture
def app_config(app_config):
    # A pool that is too small fails the checkout in a second instead of waiting 30.
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_timeout": 1}}


def test_page_threads_get_connections_while_every_run_in_flight_holds_one(app):
    # A run's request keeps its connection while it waits for a slot and runs: with every run
    # the server admits in flight, the threads kept for pages must still get theirs.
    runs_in_flight = app.config["RUN_MAX_CONCURRENT"] + app.config["RUN_QUEUE_LENGTH"]
    with app.app_context(), contextlib.ExitStack() as held:
        for _ in range(runs_in_flight + PAGE_THREADS):
            connection = held.enter_context(db.engine.connect())
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1


def test_an_in_memory_database_keeps_its_single_connection(app_config):
    in_memory = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SQLALCHEMY_ENGINE_OPTIONS": {}}
    app = create_app({**app_config, **in_memory})
    with app.app_context():
        db.create_all()
        assert db.session.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


def _commit_sync(connection) -> str:
    """How this connection's commits sync: "full" (SQLite FULL, PostgreSQL on) or "without"
    (SQLite NORMAL, PostgreSQL off)."""
    if connection.dialect.name == "sqlite":
        return {2: "full", 1: "without"}[_pragma(connection, "synchronous")]
    return {"on": "full", "off": "without"}[
        connection.exec_driver_sql("SHOW synchronous_commit").scalar()
    ]


def test_bookkeeping_commits_without_a_sync_and_the_next_transaction_syncs_again(app):
    from pyspace.database import begin_bookkeeping
    from pyspace.models import User

    with app.app_context():
        begin_bookkeeping()
        connection = db.session.connection()
        assert _commit_sync(connection) == "without"
        db.session.add(User(username="noted", password_hash="x"))
        db.session.commit()
        # The connection went back to the pool; whoever takes it next syncs every commit.
        connection = db.session.connection()
        assert _commit_sync(connection) == "full"
        assert db.session.scalar(sqlalchemy.select(User.username)) == "noted"


@pytest.mark.parametrize("written", ["flushed", "pending"])
def test_a_transaction_that_already_wrote_stays_fully_synced(app, written):
    from pyspace.database import begin_bookkeeping
    from pyspace.models import User

    with app.app_context():
        db.session.add(User(username="typed", password_hash="x"))
        if written == "flushed":
            db.session.flush()
        begin_bookkeeping()
        db.session.flush()
        connection = db.session.connection()
        assert _commit_sync(connection) == "full"
        db.session.commit()
