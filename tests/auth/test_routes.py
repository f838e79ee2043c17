"""Accounts: register, log in, log out, remember me, clear errors, hashing, rate limits."""

import pytest

from pyspace import create_app
from pyspace.extensions import db
from pyspace.models import User
from tests.conftest import PASSWORD


def _user(app, username):
    with app.app_context():
        return db.session.scalar(db.select(User).filter_by(username=username))


def _logged_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def test_register_creates_account_and_logs_in(app, accounts):
    response = accounts.register("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _logged_in(accounts.client)
    home = accounts.client.get("/").get_data(as_text=True)
    assert "Welcome to py.space, alice!" in home and "Your widgets" in home


def test_usernames_are_case_insensitive(app, accounts, make_client):
    accounts.register("Alice")
    assert _user(app, "alice") is not None
    other = make_client()
    assert other.login("ALICE").status_code == 302


def test_login_then_logout(alice, make_client):
    browser = make_client()
    assert browser.login("alice").status_code == 302
    assert _logged_in(browser.client)
    response = browser.logout()
    assert response.status_code == 302
    assert not _logged_in(browser.client)
    assert "You have been logged out." in browser.client.get("/").get_data(as_text=True)


def test_logout_needs_a_post(alice):
    assert alice.client.get("/logout").status_code == 405
    assert _logged_in(alice.client)


@pytest.mark.parametrize("remember", [True, False])
def test_remember_me_sets_a_lasting_cookie_only_when_asked(alice, make_client, remember):
    browser = make_client()
    response = browser.login("alice", remember=remember)
    cookies = response.headers.getlist("Set-Cookie")
    remember_cookies = [c for c in cookies if c.startswith("remember_token=")]
    if remember:
        assert (
            remember_cookies
            and "HttpOnly" in remember_cookies[0]
            and "Expires=" in remember_cookies[0]
        )
    else:
        assert not remember_cookies


def test_remember_cookie_logs_back_in_after_the_session_ends(app, alice, make_client):
    browser = make_client()
    browser.login("alice", remember=True)
    browser.client.delete_cookie("session")  # the browser was closed: session cookie gone
    assert browser.client.get("/widgets/new").status_code == 200


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("", PASSWORD, "Choose a username."),
        ("bob", "", "Choose a password."),
        ("bob", "short", "Passwords need at least 8 characters."),
        ("b" * 33, PASSWORD, "Usernames are 3–32 characters"),
        ("bo b!", PASSWORD, "Usernames are 3–32 characters"),
        ("bob", "x" * 201, "Passwords can be at most 200 characters."),
        ("alice", PASSWORD, "That username is taken. Try another."),
        ("ALICE", PASSWORD, "That username is taken. Try another."),
    ],
)
def test_register_explains_what_is_wrong(app, alice, make_client, username, password, message):
    browser = make_client()
    response = browser.register(username, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("alice", "wrong password!", "Wrong username or password."),
        ("nobody", PASSWORD, "Wrong username or password."),
        ("", PASSWORD, "Enter your username."),
        ("alice", "", "Enter your password."),
        ("a" * 33, PASSWORD, "No username is that long."),
        ("alice", "x" * 201, "No password is that long."),
    ],
)
def test_login_explains_what_is_wrong(alice, make_client, username, password, message):
    browser = make_client()
    response = browser.login(username, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert not _logged_in(browser.client)


def test_passwords_are_stored_only_as_a_hash_of_the_configured_method(app, alice):
    stored = _user(app, "alice").password_hash
    assert PASSWORD not in stored
    # The suite configures a cheap pbkdf2 (tests/conftest.py); a site gets scrypt.
    assert stored.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="alice"))
        assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_a_site_hashes_passwords_with_scrypt_unless_configured_otherwise(tmp_path):
    site = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "k"})
    assert site.config["PASSWORD_HASH_METHOD"] == "scrypt"
    with site.app_context():
        user = User(username="carol")
        user.set_password(PASSWORD)
        assert user.password_hash.startswith("scrypt:") and user.check_password(PASSWORD)


@pytest.fixture
def limited_app_config(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_a_whole_class_behind_one_address_can_register_and_log_in(
    limited_app_config, app, make_client
):
    for number in range(40):
        student = make_client()
        assert student.register(f"student{number}").status_code == 302
        assert student.logout().status_code == 302
        assert student.login(f"student{number}").status_code == 302


def test_disabled_user_cannot_log_in(app, alice, make_client):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="alice")).is_disabled = True
        db.session.commit()
    browser = make_client()
    response = browser.login("alice")
    assert response.status_code == 200
    assert "This account has been disabled by an administrator." in response.get_data(as_text=True)
    assert not _logged_in(browser.client)


def test_disabling_ends_remembered_logins_for_good(app, alice, make_client):
    browser = make_client()
    browser.login("alice", remember=True)
    _set_disabled(app, "alice", True)
    response = browser.client.get("/")
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))
    _set_disabled(app, "alice", False)
    assert browser.client.get("/widgets/new").status_code == 302


def _set_disabled(app, username, disabled):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username=username)).is_disabled = disabled
        db.session.commit()


def test_disabled_user_is_logged_out_at_the_next_request(app, alice):
    assert alice.client.get("/widgets/new").status_code == 200
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="alice")).is_disabled = True
        db.session.commit()
    response = alice.client.get("/widgets/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_login_never_redirects_to_another_site(alice, make_client, target):
    browser = make_client()
    token = browser.csrf_token()
    response = browser.client.post(
        "/login",
        query_string={"next": target},
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_returns_to_the_page_that_asked(alice, make_client):
    browser = make_client()
    asked = browser.client.get("/widgets/new")
    assert asked.status_code == 302
    login_url = asked.headers["Location"]
    token = browser.csrf_token()
    response = browser.client.post(
        login_url, data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/widgets/new"


def test_login_and_register_pages_redirect_when_already_logged_in(alice):
    assert alice.client.get("/login").status_code == 302
    assert alice.client.get("/register").status_code == 302
