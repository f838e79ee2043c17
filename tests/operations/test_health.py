"""GET /healthz: 200 with every check ok, 503 naming the ones that fail; no log-in, no writes."""

import os
import threading
import time
from types import SimpleNamespace

import pytest

from pyspace import create_app
from pyspace.operations.heartbeat import beat, heartbeat_loop, heartbeat_path
from pyspace.sandbox import RunnerState


def fake_runner(problem=None, allow_unsandboxed=False):
    """The runner's known state, without starting a sandbox per test."""
    state = RunnerState(
        sandboxed=problem is None,
        usable=problem is None or allow_unsandboxed,
        problem=problem,
        idle=0,
        pool_size=0,
    )
    return SimpleNamespace(state=lambda: state, shutdown=lambda: None)


@pytest.fixture
def healthy(app):
    app.extensions["runner"] = fake_runner()
    beat(app)
    return app


def test_healthz_is_ok_when_everything_answers_without_logging_in(healthy, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "sandbox", "consumer", "disk"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_names_a_sandbox_that_cannot_start(healthy, client):
    healthy.extensions["runner"] = fake_runner("the kernel refuses user namespaces")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing" and body["failing"] == ["sandbox"]
    assert "user namespaces" in body["checks"]["sandbox"]["detail"]


def test_healthz_names_a_consumer_that_never_ran(app, client):
    app.extensions["runner"] = fake_runner()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["consumer"]


def test_healthz_names_a_consumer_whose_heartbeat_is_old(healthy, client):
    old = time.time() - 3600
    os.utime(heartbeat_path(healthy), (old, old))
    body = client.get("/healthz").get_json()
    assert body["failing"] == ["consumer"]
    assert "3600 s ago" in body["checks"]["consumer"]["detail"]


def test_consumer_check_can_be_switched_off_for_web_hosts(app, client):
    app.extensions["runner"] = fake_runner()
    app.config["HEALTH_CONSUMER_SECONDS"] = 0
    assert client.get("/healthz").status_code == 200


def test_healthz_names_a_full_disk(healthy, client):
    healthy.config["HEALTH_MIN_FREE_MB"] = 10**12
    body = client.get("/healthz").get_json()
    assert body["failing"] == ["disk"]


def test_healthz_names_a_database_that_does_not_answer(healthy, client, monkeypatch):
    from pyspace.extensions import db

    def broken(*args, **kwargs):
        raise ConnectionError("gone")

    monkeypatch.setattr(db.session, "execute", broken)
    body = client.get("/healthz").get_json()
    assert body["failing"] == ["database"]


def test_healthz_writes_nothing_to_the_database(healthy, client):
    from sqlalchemy import event

    from pyspace.extensions import db

    statements: list[str] = []
    with healthy.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements)


def test_healthz_is_rate_limited(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    app = create_app(app_config)
    app.extensions["runner"] = fake_runner()
    beat(app)
    client = app.test_client()
    codes = [client.get("/healthz").status_code for _ in range(121)]
    assert codes[:120] == [200] * 120 and codes[-1] == 429


def test_the_consumer_heartbeat_loop_beats_until_stopped(app):
    stopping = threading.Event()
    thread = threading.Thread(target=heartbeat_loop, args=(app, stopping, 0.01))
    thread.start()
    deadline = time.time() + 5
    while not os.path.exists(heartbeat_path(app)) and time.time() < deadline:
        time.sleep(0.01)
    stopping.set()
    thread.join(5)
    assert os.path.exists(heartbeat_path(app)) and not thread.is_alive()


def test_healthz_over_http_from_a_served_site(healthy):
    import json
    import urllib.error
    import urllib.request

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, healthy, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and json.load(response)["status"] == "ok"
        healthy.config["HEALTH_MIN_FREE_MB"] = 10**12
        with pytest.raises(urllib.error.HTTPError) as failing:
            urllib.request.urlopen(url, timeout=10)
        assert failing.value.code == 503
        assert json.load(failing.value)["failing"] == ["disk"]
    finally:
        server.shutdown()
