"""Every route where an anonymous visitor can make the server work is rate limited.

Each case sends cheap requests (refused ones count too) from one address, with the limits the
app ships with, and expects the next request past the limit to get the site's 429 page.
"""
import pytest

from tests.conftest import csrf_token_from

MISSING_WIDGET = "AAAAAAAAAAAAAAAA"


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def failed_register(client, n):
    token = csrf_token_from(client.get("/register").get_data(as_text=True))
    return client.post("/register", data={"username": f"pupil{n}", "password": "short",
                                          "csrf_token": token})


def failed_login(client, n):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": "alice", "password": f"guess {n}",
                                       "csrf_token": token})


def anonymous_run(client, n):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/widgets/{MISSING_WIDGET}/run", data={"csrf_token": token})


def anonymous_fork(client, n):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/widgets/{MISSING_WIDGET}/fork", data={"csrf_token": token})


def gui_call(client, n):
    return client.post(f"/widgets/{MISSING_WIDGET}/call/anything", data="{}",
                       headers={"Content-Type": "application/json", "X-Call-Token": "forged"})


@pytest.mark.parametrize("send, allowed", [
    (failed_register, 60),
    (failed_login, 10),
    (anonymous_run, 10),
    (anonymous_fork, 30),
    (gui_call, 60),
], ids=["register", "login", "run", "fork", "gui-call"])
def test_anonymous_work_is_rate_limited_per_client(client, send, allowed):
    statuses = [send(client, n).status_code for n in range(allowed)]
    assert 429 not in statuses
    blocked = send(client, allowed)
    assert blocked.status_code == 429
    assert "Slow down" in blocked.get_data(as_text=True) or blocked.is_json
