"""Sessions end when they should: a copied session cookie or remember-me cookie is worthless
after logout, "Log out everywhere", a password change, or the account being disabled (and
enabled again). The CSRF token changes at log-in, and a GUI call token dies with its session."""

import pytest

from pyspace.admin.accounts import set_disabled
from pyspace.extensions import db
from pyspace.gui.call_tokens import CallTokenError, actor_for_call_token, issue_call_token
from pyspace.models import User
from tests.conftest import PASSWORD, csrf_token_from

NEW_PASSWORD = "a brand new passphrase"


def _alice(app) -> User:
    return db.session.scalar(db.select(User).filter_by(username="alice"))


def _logged_in(accounts) -> bool:
    # A page only a logged-in user gets (anonymous visitors are sent to log in).
    return accounts.client.get("/widgets/new").status_code == 200


def _copy_cookie(source, target, name) -> None:
    cookie = source.client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie to copy"
    target.client.set_cookie(name, cookie.value)


def _log_out(victim, app):
    victim.logout()


def _log_out_everywhere(victim, app):
    victim.post("/account/logout-everywhere")


def _change_password(victim, app):
    response = victim.post(
        "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302


def _disable_and_enable(victim, app):
    with app.app_context():
        set_disabled(_alice(app), True)
        set_disabled(_alice(app), False)


ENDINGS = {
    "logout": _log_out,
    "log-out-everywhere": _log_out_everywhere,
    "password-change": _change_password,
    "disable-then-enable": _disable_and_enable,
}


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
@pytest.mark.parametrize("ending", ENDINGS)
def test_a_copied_cookie_stops_working_when_the_session_ends(
    app, alice, make_client, cookie, ending
):
    victim = make_client()
    assert victim.login("alice", remember=True).status_code == 302
    thief = make_client()
    _copy_cookie(victim, thief, cookie)
    assert _logged_in(thief), "the copied cookie should work before the session ends"
    ENDINGS[ending](victim, app)
    assert not _logged_in(thief)


def test_a_password_change_keeps_this_browser_logged_in_and_ends_the_others(
    app, alice, make_client
):
    other = make_client()
    other.login("alice")
    _change_password(alice, app)
    assert _logged_in(alice) and not _logged_in(other)
    assert make_client().login("alice", NEW_PASSWORD).status_code == 302
    assert make_client().login("alice", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "current, new, message",
    [
        ("not my password", NEW_PASSWORD, "That is not your current password."),
        ("", NEW_PASSWORD, "Enter your current password."),
        (PASSWORD, "short", "Passwords need at least 8 characters."),
    ],
)
def test_a_password_change_needs_the_current_password_and_a_good_new_one(
    app, alice, current, new, message
):
    response = alice.post("/account/password", {"current_password": current, "new_password": new})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert _alice(app).check_password(PASSWORD)
    assert _logged_in(alice)


def test_the_account_page_offers_change_password_and_log_out_everywhere(alice):
    html = alice.client.get("/account").get_data(as_text=True)
    assert "Change password" in html and "Log out everywhere" in html
    assert 'href="/account"' in alice.client.get("/").get_data(as_text=True)


def test_log_out_everywhere_ends_this_browser_too(app, alice):
    response = alice.post("/account/logout-everywhere")
    assert response.status_code == 302
    assert not _logged_in(alice)


def test_the_csrf_token_changes_at_log_in(alice, make_client):
    browser = make_client()
    before = browser.client.get("/login")
    token_before = csrf_token_from(before.get_data(as_text=True))
    with browser.client.session_transaction() as session:
        raw_before = session["csrf_token"]
    browser.client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token_before}
    )
    with browser.client.session_transaction() as session:
        assert session.get("csrf_token") != raw_before
    after = csrf_token_from(browser.client.get("/").get_data(as_text=True))
    assert after != token_before


def test_sessions_made_before_the_upgrade_work_until_the_first_logout(app, alice, make_client):
    with app.app_context():
        alice_id = _alice(app).id
    old = make_client()
    with old.client.session_transaction() as session:
        session["_user_id"] = str(alice_id)  # what a cookie from before session generations holds
        session["_fresh"] = True
    assert _logged_in(old)
    alice.logout()
    assert not _logged_in(old)


def test_a_gui_call_token_stops_working_when_its_session_ends(app, alice):
    widget_id = alice.create_widget("Greeter", "gui", visibility="public")
    with app.test_request_context():
        alice_id = _alice(app).id
        token = issue_call_token(widget_id, alice_id)
        assert actor_for_call_token(token, widget_id) == alice_id
    alice.logout()
    with app.test_request_context(), pytest.raises(CallTokenError, match="session has ended"):
        actor_for_call_token(token, widget_id)
    response = alice.client.post(
        f"/widgets/{widget_id}/call/greet",
        data="{}",
        headers={"Content-Type": "application/json", "X-Call-Token": token},
    )
    assert response.status_code == 401
    assert "session has ended" in response.get_json()["error"]["message"]
