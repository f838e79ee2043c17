"""Guesses sent at once can't slip past the log-in throttle: the attempt is counted before the
password is checked, in one atomic step with the check of the wait, so however many arrive
together at most the allowed number reach the password check (log-in and change-password).

Each test starts with the throttle engaged: many failures, the last one just over the longest
wait ago, so each key allows exactly one more try now (and the next only LOGIN_MAX_DELAY_SECONDS
later), however long the guesses take to arrive."""

import threading
from datetime import timedelta

import pytest
from werkzeug import security

from pyspace import models
from pyspace.extensions import db
from pyspace.models import LoginThrottle, utcnow
from tests.conftest import PASSWORD, Accounts, csrf_token_from

GUESSES = 30
NEW_PASSWORD = "a new long password"
MAX_DELAY = 60
ALLOWED = 1


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOGIN_MAX_DELAY_SECONDS": MAX_DELAY}


def _engage_throttle(app, address: str) -> None:
    """Every counter of alice's (her device's, if any, and those of browsers at `address`): far
    past its free failures, the last one just over MAX_DELAY ago."""
    with app.app_context():
        keys = {row.key for row in db.session.scalars(db.select(LoginThrottle))}
        keys |= {f"address:{address}|account:alice", "untrusted|account:alice"}
        for key in keys:
            db.session.merge(
                LoginThrottle(
                    key=key,
                    failures=30,  # under the untrusted key's 100 free ones: it never waits here
                    last_failure_at=utcnow() - timedelta(seconds=MAX_DELAY + 1),
                )
            )
        db.session.commit()


@pytest.fixture
def password_checks(monkeypatch):
    """Counts password hash checks made from now on (every thread)."""
    counted = {"n": 0}
    lock = threading.Lock()

    def counting(hash_, password):
        with lock:
            counted["n"] += 1
        return security.check_password_hash(hash_, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    return counted


def _all_at_once(actions) -> list:
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def go(index, action):
        barrier.wait()
        results[index] = action()

    threads = [threading.Thread(target=go, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_log_in_guesses_check_at_most_the_allowed_number(app, password_checks):
    owner = Accounts(app.test_client())
    assert owner.register("alice").status_code == 302
    first = Accounts(app.test_client())
    first.client.environ_base["REMOTE_ADDR"] = "198.51.100.66"
    assert first.login("alice", "a first wrong guess").status_code == 200
    _engage_throttle(app, "198.51.100.66")
    guessers = []
    for _ in range(GUESSES):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "198.51.100.66"
        guessers.append((client, csrf_token_from(client.get("/login").get_data(as_text=True))))
    password_checks["n"] = 0

    def guess(client, token, n):
        data = {"username": "alice", "password": f"guess {n}", "csrf_token": token}
        return lambda: client.post("/login", data=data).status_code

    statuses = _all_at_once([guess(c, t, n) for n, (c, t) in enumerate(guessers)])
    assert password_checks["n"] <= ALLOWED
    assert statuses.count(200) == password_checks["n"]  # each check: "wrong password"
    assert statuses.count(429) == GUESSES - password_checks["n"]


def test_simultaneous_change_password_guesses_check_at_most_the_allowed_number(
    app, alice, password_checks
):
    # One stolen session, many tabs: every request carries alice's cookies.
    wrong_form = {"current_password": "a first wrong guess", "new_password": NEW_PASSWORD}
    first = alice.post("/account/password", wrong_form)
    assert "That is not your current password." in first.get_data(as_text=True)
    _engage_throttle(app, "127.0.0.1")
    token = alice.csrf_token()
    cookie = alice.client.get_cookie("session")
    device = alice.client.get_cookie("pyspace_device")
    tabs = []
    for _ in range(GUESSES):
        client = app.test_client()
        client.set_cookie("session", cookie.value)
        if device is not None:
            client.set_cookie("pyspace_device", device.value)
        tabs.append(client)
    password_checks["n"] = 0

    def guess(client, n):
        data = {"current_password": f"guess {n}", "new_password": NEW_PASSWORD, "csrf_token": token}
        return lambda: client.post("/account/password", data=data).get_data(as_text=True)

    bodies = _all_at_once([guess(client, n) for n, client in enumerate(tabs)])
    # One through her device's key; once that waits, the browser counts as any other at its
    # address, whose key allows one more.
    assert password_checks["n"] <= ALLOWED + 1
    wrong = sum("That is not your current password." in body for body in bodies)
    slowed = sum("Slow down: too many wrong passwords." in body for body in bodies)
    assert wrong == password_checks["n"] and wrong + slowed == GUESSES
    # alice's own next try, a minute later, with the right password, still works.
    _engage_throttle(app, "127.0.0.1")
    right = alice.post(
        "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert right.status_code == 302
