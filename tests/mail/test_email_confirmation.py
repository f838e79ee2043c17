"""Confirming an account's e-mail address: a new address is mailed a link (through a real SMTP
server on loopback, or kept in the outbox without one); opening it and pressing the button
confirms the address once; the link expires, and changing the address spends it; the account
page says whether the address is confirmed."""

import re
import time

import pytest
from itsdangerous import TimestampSigner

from pyspace.extensions import db
from pyspace.models import MailMessage, User
from tests.conftest import PASSWORD, csrf_token_from

LINK = re.compile(r"(https?://\S+/account/email/confirm/[A-Za-z0-9_.-]+)")


@pytest.fixture
def smtp(app, mailbox):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{mailbox.port}"
    app.config["MAIL_FROM"] = "site@pyspace.test"
    app.config["SITE_URL"] = "https://py.example.org"
    return mailbox


def _link_in(message) -> str:
    match = LINK.search(message.get_body(("plain",)).get_content())
    assert match, "the mail has no confirmation link"
    return match.group(1).removeprefix("https://py.example.org")


def _confirm(browser, path):
    page = browser.client.get(path)
    if page.status_code != 200:
        return page
    token = csrf_token_from(page.get_data(as_text=True))
    return browser.client.post(path, data={"csrf_token": token})


def _alice(app) -> User:
    return db.session.scalar(db.select(User).filter_by(username="alice"))


def _confirmed(app) -> bool:
    with app.app_context():
        return _alice(app).email_confirmed


def test_a_new_address_is_mailed_a_link_that_confirms_it_once(app, smtp, alice, make_client):
    response = alice.post("/account/email", {"email": "Alice@Example.org"})
    assert response.status_code == 302
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["alice@example.org"]
    assert message["From"].addresses[0].addr_spec == "site@pyspace.test"
    path = _link_in(message)
    assert not _confirmed(app)
    page = alice.client.get("/account").get_data(as_text=True)
    assert "Not confirmed" in page and "Send the link again" in page

    # Anyone holding the link may confirm (it was mailed to the address), without logging in.
    stranger = make_client()
    shown = stranger.client.get(path)
    assert shown.status_code == 200 and "alice@example.org" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    assert not _confirmed(app), "opening the link alone (a mail scanner) confirms nothing"
    assert _confirm(stranger, path).status_code == 302
    assert _confirmed(app)
    page = alice.client.get("/account").get_data(as_text=True)
    assert "alice@example.org is confirmed" in page and "Not confirmed" not in page

    again = _confirm(make_client(), path)
    assert again.status_code == 400 and "This link does not work" in again.get_data(as_text=True)
    # The address stays what the account gave: widgets read the same address as before.
    with app.app_context():
        assert _alice(app).email == "alice@example.org"


def test_changing_the_address_unconfirms_it_and_spends_the_old_link(app, smtp, alice):
    alice.post("/account/email", {"email": "alice@example.org"})
    old_path = _link_in(smtp.messages[0][1])
    assert _confirm(alice, old_path).status_code == 302
    assert _confirmed(app)
    # Saving the same address again keeps it confirmed and sends nothing.
    alice.post("/account/email", {"email": "ALICE@example.org"})
    assert _confirmed(app) and len(smtp.messages) == 1

    alice.post("/account/email", {"email": "alice@elsewhere.org"})
    assert not _confirmed(app)
    assert smtp.messages[1][0] == ["alice@elsewhere.org"]
    assert _confirm(alice, old_path).status_code == 400
    new_path = _link_in(smtp.messages[1][1])
    alice.post("/account/email", {"email": "alice@third.org"})
    assert _confirm(alice, new_path).status_code == 400, "the address it confirms is gone"
    assert not _confirmed(app)


def test_an_expired_or_tampered_link_is_refused(app, smtp, alice, make_client, monkeypatch):
    alice.post("/account/email", {"email": "alice@example.org"})
    path = _link_in(smtp.messages[0][1])
    assert make_client().client.get(path[:-2] + "xx").status_code == 400
    later = int(time.time()) + 49 * 3600  # EMAIL_CONFIRM_HOURS is 48
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert _confirm(make_client(), path).status_code == 400
    assert not _confirmed(app)


def test_the_link_can_be_sent_again_and_the_new_one_confirms(app, smtp, alice):
    alice.post("/account/email", {"email": "alice@example.org"})
    assert alice.post("/account/email/confirmation").status_code == 302
    assert len(smtp.messages) == 2
    assert _confirm(alice, _link_in(smtp.messages[1][1])).status_code == 302
    assert _confirmed(app)
    # Confirmed: nothing more is sent.
    alice.post("/account/email/confirmation")
    assert len(smtp.messages) == 2


def test_a_sign_up_with_an_address_is_mailed_a_link(app, smtp, make_client):
    browser = make_client()
    token = csrf_token_from(browser.client.get("/register").get_data(as_text=True))
    data = {"username": "carol", "password": PASSWORD, "email": "carol@example.org"}
    assert browser.client.post("/register", data={**data, "csrf_token": token}).status_code == 302
    assert [recipients for recipients, _ in smtp.messages] == [["carol@example.org"]]


def test_an_address_an_admin_sets_is_unconfirmed(app, smtp, alice, bob):
    alice.post("/account/email", {"email": "alice@example.org"})
    assert _confirm(alice, _link_in(smtp.messages[0][1])).status_code == 302
    with app.app_context():
        bob_user = db.session.scalar(db.select(User).filter_by(username="bob"))
        bob_user.is_admin = True
        alice_id = _alice(app).id
        db.session.commit()
    bob.post(f"/admin/users/{alice_id}/email", {"email": "alice@new.org"})
    assert not _confirmed(app)


def test_without_a_mail_server_the_link_waits_in_the_admins_outbox(app, alice):
    alice.post("/account/email", {"email": "alice@example.org"})
    with app.app_context():
        row = db.session.scalar(db.select(MailMessage))
        assert row.status == "outbox" and row.recipients == "alice@example.org"
        assert b"/account/email/confirm/" in row.raw


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def test_asking_for_links_again_is_throttled_per_account(limits_on, app, smtp, alice):
    alice.post("/account/email", {"email": "alice@example.org"})
    statuses = [alice.post("/account/email/confirmation").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert len(smtp.messages) == 4
