"""Password reset by e-mail: the link arrives through a real SMTP server on loopback, works
once, expires, ends every other session; unknown addresses get the very same answer; asking is
throttled per address."""

import re
import time

import pytest
from itsdangerous import TimestampSigner

from pyspace.extensions import db
from pyspace.models import MailMessage, User, utcnow
from tests.conftest import PASSWORD, csrf_token_from

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"(https?://\S+/password/reset/[A-Za-z0-9_.-]+)")
# Flask-WTF's signed CSRF tokens (data.timestamp.signature): they differ from page to page.
CSRF_TOKENS = re.compile(r"[\w-]{20,}\.[\w-]{4,}\.[\w-]{10,}")


@pytest.fixture
def smtp(app, mailbox):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"
    app.config["MAIL_FROM"] = "site@pyspace.test"
    app.config["SITE_URL"] = "https://py.example.org"
    return mailbox


@pytest.fixture
def alice_with_email(app, alice):
    # Set in the database, confirmed: the account page would mail a confirmation link too.
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="alice"))
        user.email, user.email_confirmed_at = "alice@example.org", utcnow()
        db.session.commit()
    return alice


def _ask(browser, email, **kwargs):
    form = browser.client.get("/password/forgot", **kwargs)
    token = csrf_token_from(form.get_data(as_text=True))
    response = browser.client.post(
        "/password/forgot", data={"email": email, "csrf_token": token}, **kwargs
    )
    response.get_data()
    # A WSGI server closes the response once it is sent; the link is mailed then.
    response.close()
    return response


def _link_from(message) -> str:
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, "the mail has no reset link"
    return match.group(1)


def _path(link: str) -> str:
    return link.removeprefix("https://py.example.org")


def _set_password(browser, path, password=NEW_PASSWORD):
    page = browser.client.get(path)
    if page.status_code != 200:
        return page
    token = csrf_token_from(page.get_data(as_text=True))
    return browser.client.post(path, data={"new_password": password, "csrf_token": token})


def _can_log_in(make_client, password) -> bool:
    return make_client().login("alice", password).status_code == 302


def test_the_mailed_link_sets_a_new_password_once_and_ends_other_sessions(
    app, smtp, alice_with_email, make_client
):
    stranger = make_client()
    # A forged Host header doesn't move the link off the site's address.
    answer = _ask(stranger, "  Alice@Example.ORG ", headers={"Host": "evil.example"})
    assert answer.status_code == 200
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["alice@example.org"]
    assert message["From"].addresses[0].addr_spec == "site@pyspace.test"
    link = _link_from(message)
    assert link.startswith("https://py.example.org/password/reset/")
    page = stranger.client.get(_path(link))
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    response = _set_password(stranger, _path(link))
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not _can_log_in(make_client, PASSWORD)
    assert _can_log_in(make_client, NEW_PASSWORD)
    # Alice's own browser was logged in: that session is over.
    assert alice_with_email.client.get("/account").status_code == 302

    again = stranger.client.get(_path(link))
    assert again.status_code == 400
    assert "This link does not work" in again.get_data(as_text=True)
    token = csrf_token_from(again.get_data(as_text=True))
    reuse = stranger.client.post(
        _path(link), data={"new_password": "yet another password", "csrf_token": token}
    )
    assert reuse.status_code == 400
    assert _can_log_in(make_client, NEW_PASSWORD)


def test_an_expired_link_is_refused(app, smtp, alice_with_email, make_client, monkeypatch):
    _ask(make_client(), "alice@example.org")
    path = _path(_link_from(smtp.messages[0][1]))
    later = int(time.time()) + 61 * 60  # PASSWORD_RESET_MINUTES is 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = _set_password(make_client(), path)
    assert response.status_code == 400
    assert _can_log_in(make_client, PASSWORD)


def test_a_tampered_link_is_refused(app, smtp, alice_with_email, make_client):
    _ask(make_client(), "alice@example.org")
    path = _path(_link_from(smtp.messages[0][1]))
    assert make_client().client.get(path[:-2] + "xx").status_code == 400


def test_an_unknown_address_gets_the_identical_answer_and_no_mail(
    app, smtp, alice_with_email, make_client
):
    browser = make_client()
    known = _ask(browser, "alice@example.org")
    unknown = _ask(browser, "nobody@example.org")
    assert len(smtp.messages) == 1
    assert known.status_code == unknown.status_code == 200

    def shown(response):
        return CSRF_TOKENS.sub("TOKEN", response.get_data(as_text=True))

    assert shown(known) == shown(unknown)
    assert "If an account here has that e-mail address" in shown(known)
    assert {k: v for k, v in known.headers if k != "Set-Cookie"} == {
        k: v for k, v in unknown.headers if k != "Set-Cookie"
    }


def test_a_disabled_account_gets_no_link(app, smtp, alice_with_email, make_client):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="alice")).is_disabled = True
        db.session.commit()
    assert _ask(make_client(), "alice@example.org").status_code == 200
    assert smtp.messages == []


def test_an_invalid_address_is_a_form_error(app, make_client):
    response = _ask(make_client(), "not-an-address")
    assert response.status_code == 200
    assert "That is not an e-mail address" in response.get_data(as_text=True)


def test_without_a_mail_server_the_link_waits_in_the_admins_outbox(
    app, alice_with_email, make_client
):
    assert _ask(make_client(), "alice@example.org").status_code == 200
    with app.app_context():
        row = db.session.scalar(db.select(MailMessage))
        assert row.status == "outbox" and row.widget_id is None and row.account_id is None
        assert b"/password/reset/" in row.raw


def test_the_log_in_page_links_to_the_reset_form(client):
    assert "/password/forgot" in client.get("/login").get_data(as_text=True)


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def test_asking_is_throttled_per_address_in_any_letter_case(
    limits_on, app, smtp, alice_with_email, make_client
):
    statuses = [
        _ask(make_client(), email).status_code
        for email in ("alice@example.org", "ALICE@example.org", "Alice@example.org")
    ]
    assert statuses == [200, 200, 200]
    assert _ask(make_client(), "alice@EXAMPLE.org").status_code == 429
    assert len(smtp.messages) == 3
    assert _ask(make_client(), "someone-else@example.org").status_code == 200


def test_the_link_is_mailed_after_the_answer_has_gone(app, smtp, alice_with_email, make_client):
    browser = make_client()
    token = csrf_token_from(browser.client.get("/password/forgot").get_data(as_text=True))
    response = browser.client.post(
        "/password/forgot", data={"email": "alice@example.org", "csrf_token": token}
    )
    assert response.status_code == 200 and smtp.messages == []
    response.close()
    assert len(smtp.messages) == 1
