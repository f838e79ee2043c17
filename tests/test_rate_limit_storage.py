"""Rate-limit counters in instance/ratelimits.sqlite: one count for every process on a machine.

Two storage objects on one file stand in for two workers; real processes (subprocesses, and a
fork of a process that already counted, as gunicorn forks its workers) prove the count is exact
when they hit at the same moment. An app built with the default config counts in its instance
folder, and a limited route answers 429 when the hits of two apps on that folder add up.
"""

import multiprocessing
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from limits.strategies import MovingWindowRateLimiter

from pyspace import create_app, rate_limit_storage
from pyspace.extensions import db, limiter
from pyspace.rate_limit_storage import SQLiteStorage, default_storage_uri
from pyspace.sandbox import shutdown_runner
from tests.conftest import csrf_token_from

PROJECT = Path(__file__).resolve().parents[1]
# Each process waits for the same moment, then hits as fast as it can: their hits interleave.
COUNTING_PROCESS = """
import sys, time
from pyspace.rate_limit_storage import SQLiteStorage
uri, hits, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
storage = SQLiteStorage(uri)
time.sleep(max(0.0, start_at - time.time()))
print(" ".join(str(storage.incr("shared", 60)) for _ in range(hits)))
"""


@pytest.fixture
def uri(tmp_path):
    return default_storage_uri(str(tmp_path))


def test_two_storages_on_one_file_share_their_counts(uri):
    first, second = SQLiteStorage(uri), SQLiteStorage(uri)
    assert [first.incr("k", 60), second.incr("k", 60), first.incr("k", 60, amount=3)] == [1, 2, 5]
    assert second.get("k") == 5 and first.get("other") == 0
    assert second.get_expiry("k") == pytest.approx(time.time() + 60, abs=2)


def test_processes_hitting_at_once_count_every_hit_exactly_once(uri):
    processes, hits = 4, 200
    start_at = str(time.time() + 2)  # after every interpreter has started
    running = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTING_PROCESS, uri, str(hits), start_at],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    counts = []
    for process in running:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        counts += [int(count) for count in out.split()]
    # Each hit saw a count no other hit saw: no two processes read the same old count.
    assert sorted(counts) == list(range(1, processes * hits + 1))
    assert SQLiteStorage(uri).get("shared") == processes * hits


def _count_in_child(storage: SQLiteStorage, parents_connection, results) -> None:
    results.put((storage._connection() is not parents_connection, storage.incr("forked", 60)))


def test_a_forked_worker_counts_in_the_same_file_through_a_connection_of_its_own(uri):
    """gunicorn may fork workers from a process that counted already: SQLite forbids using a
    connection opened before a fork (sqlite.org/howtocorrupt.html, 2.6)."""
    storage = SQLiteStorage(uri)
    storage.incr("forked", 60)
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=_count_in_child, args=(storage, storage._connection(), results))
    child.start()
    child.join(30)
    assert child.exitcode == 0 and results.get(timeout=5) == (True, 2)
    assert storage.incr("forked", 60) == 3


def test_a_window_that_ended_starts_again_from_one(uri):
    storage = SQLiteStorage(uri)
    storage.incr("k", 0.2, amount=5)
    time.sleep(0.3)
    assert storage.get("k") == 0
    assert storage.get_expiry("k") == pytest.approx(time.time(), abs=1)
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == pytest.approx(time.time() + 60, abs=2)


def test_expired_windows_are_deleted_now_and_then(uri, monkeypatch):
    storage = SQLiteStorage(uri)
    storage.incr("gone", 0.1)
    storage.incr("kept", 60)
    time.sleep(0.2)
    monkeypatch.setattr(rate_limit_storage, "PURGE_ONE_IN", 1)  # this time
    storage.incr("kept", 60)
    keys = storage._connection().execute("SELECT key FROM counters").fetchall()
    assert keys == [("kept",)]


def test_clear_forgets_one_key_and_reset_forgets_all(uri):
    storage = SQLiteStorage(uri)
    for key in ("a", "b", "c"):
        storage.incr(key, 60)
    storage.clear("a")
    assert [storage.get(key) for key in ("a", "b", "c")] == [0, 1, 1]
    assert storage.reset() == 2
    assert storage.get("b") == 0 and storage.check()


def test_the_file_is_readable_by_its_owner_only(uri, tmp_path):
    SQLiteStorage(uri).incr("k", 60)
    assert stat.S_IMODE((tmp_path / "ratelimits.sqlite").stat().st_mode) == 0o600


def test_the_moving_window_strategy_is_refused_by_name(uri):
    with pytest.raises(NotImplementedError, match="SQLiteStorage"):
        MovingWindowRateLimiter(SQLiteStorage(uri))


@pytest.mark.parametrize("configured", ["memory://", "redis://cache:6379/0"])
def test_a_storage_uri_given_explicitly_is_kept(app_config, configured):
    app = create_app(dict(app_config, RATELIMIT_STORAGE_URI=configured))
    assert app.config["RATELIMIT_STORAGE_URI"] == configured


def test_an_empty_storage_uri_means_the_instance_file(app_config):
    app = create_app(dict(app_config, RATELIMIT_STORAGE_URI=""))
    expected = "pyspace+sqlite:///" + str(Path(app.instance_path) / "ratelimits.sqlite")
    assert app.config["RATELIMIT_STORAGE_URI"] == expected


def _fork_missing_widget(client, times: int) -> list[int]:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return [
        client.post("/widgets/AAAAAAAAAAAAAAAA/fork", data={"csrf_token": token}).status_code
        for _ in range(times)
    ]


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def test_two_apps_on_one_instance_folder_add_up_to_one_limit(limits_on, app_config, app):
    """An anonymous visitor may fork 30 times a minute: 20 answered by one app, 10 by another
    built later on the same instance folder (a restarted or second worker), then 429."""
    assert "RATELIMIT_STORAGE_URI" not in app_config  # the default config
    assert isinstance(limiter.storage, SQLiteStorage)
    assert limiter.storage.path == str(Path(app.instance_path) / "ratelimits.sqlite")
    assert _fork_missing_widget(app.test_client(), 20) == [404] * 20
    # The second app's init_app gives the module-level limiter a new storage object: with
    # memory:// it would start again from nothing.
    second = create_app(app_config)
    try:
        assert _fork_missing_widget(second.test_client(), 11) == [404] * 10 + [429]
    finally:
        shutdown_runner(second)
        with second.app_context():
            db.engine.dispose()
