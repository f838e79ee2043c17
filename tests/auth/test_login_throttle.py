"""Password guessing is slowed per (account, address) and per device, with a wait that grows,
and can't be turned against the account's owner: a stranger's wrong passwords never lock alice
out of a browser she logged in with before, nor out of another address. Log-in time doesn't tell
whether an account exists, and a JSON log-in is refused rather than counted in the wrong place."""

import statistics
import time
from datetime import timedelta

import pytest

from pyspace.auth.throttle import delay_after
from pyspace.extensions import db
from pyspace.models import LoginThrottle
from tests.conftest import PASSWORD, Accounts, csrf_token_from

STRANGER = "198.51.100.66"
SCHOOL = "203.0.113.10"


@pytest.fixture
def browser_at(app):
    """A fresh browser whose requests come from `address`."""

    def make(address: str) -> Accounts:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return Accounts(client)

    return make


@pytest.fixture
def alice_device(browser_at):
    """alice's own browser at school: she signed up there, so it holds her device cookie."""
    browser = browser_at(SCHOOL)
    assert browser.register("alice").status_code == 302
    assert browser.logout().status_code == 302
    return browser


def _guess(browser: Accounts, n: int, username: str = "alice"):
    return browser.login(username, f"wrong guess {n}")


def _let_time_pass(app, seconds: float) -> None:
    """Move every recorded failure `seconds` into the past (instead of sleeping)."""
    with app.app_context():
        for row in db.session.scalars(db.select(LoginThrottle)):
            row.last_failure_at -= timedelta(seconds=seconds)
        db.session.commit()


def test_ten_wrong_passwords_from_a_stranger_do_not_lock_alice_out(app, alice_device, browser_at):
    stranger = browser_at(SCHOOL)  # even behind the same school address
    assert [_guess(stranger, n).status_code for n in range(10)] == [200] * 10
    # The stranger's own next try waits, even with the right password...
    blocked = stranger.login("alice", PASSWORD)
    assert blocked.status_code == 429 and "Slow down" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) >= 1
    # ...but alice's browser, which logged in before, goes straight in,
    assert alice_device.login("alice").status_code == 302
    # and so does alice from any other address.
    assert browser_at("192.0.2.5").login("alice").status_code == 302


def test_the_wait_doubles_with_each_further_failure(app, alice_device, browser_at):
    stranger = browser_at(STRANGER)
    for n in range(10):
        _guess(stranger, n)
    waits = []
    for n in range(4):
        blocked = _guess(stranger, 100 + n)
        assert blocked.status_code == 429
        waits.append(int(blocked.headers["Retry-After"]))
        _let_time_pass(app, waits[-1])
        assert _guess(stranger, 200 + n).status_code == 200  # allowed again, and wrong again
    assert waits == [1, 2, 4, 8]


def test_the_wait_is_capped_and_free_failures_cost_nothing():
    assert [delay_after(n, 10, 900) for n in (0, 9, 10, 11, 12)] == [0, 0, 1, 2, 4]
    assert delay_after(40, 10, 900) == 900 and delay_after(10**6, 10, 900) == 900


def test_a_class_behind_one_address_is_not_slowed_by_one_pupils_guesses(app, browser_at):
    pupils = [browser_at(SCHOOL) for _ in range(3)]
    for number, pupil in enumerate(pupils):
        assert pupil.register(f"pupil{number}").status_code == 302
        pupil.logout()
    guesser = browser_at(SCHOOL)
    for n in range(12):
        _guess(guesser, n, "pupil0")
    newcomer = browser_at(SCHOOL)  # a classmate on a computer new to them
    assert newcomer.login("pupil1").status_code == 302
    assert browser_at(SCHOOL).login("pupil2").status_code == 302


def test_a_device_cookie_used_for_guessing_is_throttled_and_its_owner_still_gets_in(
    app, alice_device, browser_at
):
    thief = browser_at(STRANGER)
    thief.client.set_cookie(
        "pyspace_device", alice_device.client.get_cookie("pyspace_device").value
    )
    for n in range(10):
        _guess(thief, n)
    # The stolen cookie now waits, so the thief's next guess counts as any stranger's at its
    # address (where ten more failures make it wait too).
    assert _guess(thief, 10).status_code == 200
    with app.app_context():
        failures = {row.key: row.failures for row in db.session.scalars(db.select(LoginThrottle))}
    assert failures[f"address:{STRANGER}|account:alice"] == 1
    assert [f for key, f in failures.items() if key.startswith("device:")] == [10]
    # alice's browser holds the same device cookie, and still gets in from her address.
    assert alice_device.login("alice").status_code == 302


@pytest.fixture
def few_untrusted_failures(app_config):
    app_config["LOGIN_ACCOUNT_FREE_FAILURES"] = 4


def test_guessing_spread_over_many_addresses_slows_new_browsers_not_alices(
    few_untrusted_failures, app, alice_device, browser_at
):
    for n in range(4):
        assert _guess(browser_at(f"198.51.100.{n}"), n).status_code == 200
    # A fifth address, never used for guessing, is slowed: the account has had enough guesses
    # from browsers it doesn't know...
    assert browser_at("198.51.100.99").login("alice").status_code == 429
    # ...while alice's own browser is not.
    assert alice_device.login("alice").status_code == 302


def test_unknown_usernames_are_throttled_exactly_like_real_ones(app, alice_device, browser_at):
    stranger = browser_at(STRANGER)
    known = [_guess(stranger, n, "alice").status_code for n in range(11)]
    unknown = [_guess(stranger, n, "nosuchuser").status_code for n in range(11)]
    assert known == unknown == [200] * 10 + [429]


def test_an_unknown_username_costs_the_same_password_check(app, alice_device, monkeypatch):
    from pyspace import models

    checks = []
    real_check = models.check_password_hash
    monkeypatch.setattr(
        models, "check_password_hash", lambda *a: checks.append(1) or real_check(*a)
    )
    for username in ("alice", "nosuchuser"):
        checks.clear()
        alice_device.login(username, "wrong password")
        assert checks == [1], username


@pytest.fixture
def real_hash_cost(app_config):
    """A password hash that costs what a real one does (the suite's is cheap), so the timing
    compares hash checks, not the database's noise on a busy machine."""
    app_config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:200000"


def test_log_in_time_does_not_reveal_whether_an_account_exists(
    real_hash_cost, app, alice_device, browser_at
):
    def timed(username: str) -> float:
        browser = browser_at(STRANGER)
        token = csrf_token_from(browser.client.get("/login").get_data(as_text=True))
        start = time.perf_counter()
        browser.client.post(
            "/login", data={"username": username, "password": "nope", "csrf_token": token}
        )
        return time.perf_counter() - start

    known = statistics.median(timed("alice") for _ in range(5))
    unknown = statistics.median(timed(f"ghost{n}") for n in range(5))
    # Both pay for one slow hash check. A name that skipped it would answer many times faster
    # (about 10 ms against 144 ms with this hash), so a third leaves room for a busy machine.
    assert unknown > known / 3, (known, unknown)


def test_a_json_log_in_is_refused_and_logs_nobody_in(app, alice_device, browser_at):
    browser = browser_at(STRANGER)
    token = csrf_token_from(browser.client.get("/login").get_data(as_text=True))
    for n in range(12):
        response = browser.client.post(
            "/login",
            json={"username": "alice", "password": f"guess {n}"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 415
    with browser.client.session_transaction() as session:
        assert "_user_id" not in session
    # Nothing was counted under an empty name, and alice's form log-in still works from here.
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginThrottle)) == 0
    assert browser.login("alice").status_code == 302
