"""Every route where an anonymous visitor can make the server work is rate limited.

Each case sends cheap requests (refused ones count too) from one address, with the limits the
app ships with, and expects the next request past the limit to get the site's 429 page.
Behind a reverse proxy (TRUSTED_PROXIES) limits follow the real client, and X-Forwarded-For
sent by anyone else is ignored.
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
    return client.post(
        "/register", data={"username": f"pupil{n}", "password": "short", "csrf_token": token}
    )


def failed_login(client, n):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": "alice", "password": f"guess {n}", "csrf_token": token}
    )


def anonymous_run(client, n):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/widgets/{MISSING_WIDGET}/run", data={"csrf_token": token})


def anonymous_fork(client, n):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/widgets/{MISSING_WIDGET}/fork", data={"csrf_token": token})


def gui_call(client, n):
    return client.post(
        f"/widgets/{MISSING_WIDGET}/call/anything",
        data="{}",
        headers={"Content-Type": "application/json", "X-Call-Token": "forged"},
    )


@pytest.mark.parametrize(
    "send, allowed",
    [
        (failed_register, 60),
        (failed_login, 10),
        (anonymous_run, 10),
        (anonymous_fork, 30),
        (gui_call, 60),
    ],
    ids=["register", "login", "run", "fork", "gui-call"],
)
def test_anonymous_work_is_rate_limited_per_client(client, send, allowed):
    statuses = [send(client, n).status_code for n in range(allowed)]
    assert 429 not in statuses
    blocked = send(client, allowed)
    assert blocked.status_code == 429
    assert "Slow down" in blocked.get_data(as_text=True) or blocked.is_json


def run_from(client, address):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        f"/widgets/{MISSING_WIDGET}/run",
        data={"csrf_token": token},
        headers={"X-Forwarded-For": address},
    )


def test_a_forged_forwarded_for_header_cannot_dodge_a_limit(client):
    statuses = [run_from(client, f"203.0.113.{n}").status_code for n in range(11)]
    assert statuses == [404] * 10 + [429]


@pytest.fixture
def behind_one_proxy(app_config):
    app_config["TRUSTED_PROXIES"] = 1


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(behind_one_proxy, client):
    assert [run_from(client, "203.0.113.1").status_code for _ in range(11)][-1] == 429
    # Another pupil behind the same proxy is not blocked by the first one's runs.
    assert run_from(client, "203.0.113.2").status_code == 404


def test_gui_calls_of_logged_in_viewers_behind_one_address_have_their_own_limits(app, client):
    from pyspace.gui.call_tokens import issue_call_token

    with app.test_request_context():
        first, second = issue_call_token(MISSING_WIDGET, 1), issue_call_token(MISSING_WIDGET, 2)

    def call_with(token):
        return client.post(
            f"/widgets/{MISSING_WIDGET}/call/anything",
            data="{}",
            headers={"Content-Type": "application/json", "X-Call-Token": token},
        )

    assert [call_with(first).status_code for _ in range(61)][-1] == 429
    # A classmate at the same address still gets through.
    assert call_with(second).status_code != 429
