"""Accounts' e-mail addresses: optional at sign-up, unique in any letter case, changeable on the
account page, set by an admin."""

from pyspace.extensions import db
from pyspace.models import User
from tests.conftest import PASSWORD, csrf_token_from


def _email_of(app, username):
    with app.app_context():
        return db.session.scalar(db.select(User.email).filter_by(username=username))


def _sign_up(browser, username, email):
    token = csrf_token_from(browser.client.get("/register").get_data(as_text=True))
    data = {"username": username, "password": PASSWORD, "email": email, "csrf_token": token}
    return browser.client.post("/register", data=data)


def test_sign_up_keeps_the_address_lower_case_and_without_one_keeps_none(app, make_client):
    assert _sign_up(make_client(), "ann", "  Ann@Example.ORG ").status_code == 302
    assert _sign_up(make_client(), "ben", "").status_code == 302
    assert _email_of(app, "ann") == "ann@example.org"
    assert _email_of(app, "ben") is None


def test_sign_up_with_a_taken_address_in_another_case_is_refused(app, make_client):
    assert _sign_up(make_client(), "ann", "ann@example.org").status_code == 302
    response = _sign_up(make_client(), "ben", "ANN@example.org")
    assert response.status_code == 200
    assert "That e-mail address belongs to another account." in response.get_data(as_text=True)
    assert _email_of(app, "ben") is None


def test_sign_up_with_an_invalid_address_says_so(app, make_client):
    response = _sign_up(make_client(), "ann", "not an address")
    assert "That is not an e-mail address" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="ann")) is None


def test_the_account_page_sets_changes_and_removes_the_address(app, alice, bob):
    page = alice.client.get("/account").get_data(as_text=True)
    assert 'name="email"' in page
    assert alice.post("/account/email", {"email": "Alice@Example.org"}).status_code == 302
    assert _email_of(app, "alice") == "alice@example.org"
    assert 'value="alice@example.org"' in alice.client.get("/account").get_data(as_text=True)
    taken = bob.post("/account/email", {"email": "alice@EXAMPLE.org"})
    assert taken.status_code == 422
    assert "belongs to another account" in taken.get_data(as_text=True)
    assert _email_of(app, "bob") is None
    # Saving one's own address again is not "taken".
    assert alice.post("/account/email", {"email": "alice@example.org"}).status_code == 302
    invalid = alice.post("/account/email", {"email": "alice@"})
    assert invalid.status_code == 422 and "not an e-mail address" in invalid.get_data(as_text=True)
    assert alice.post("/account/email", {"email": ""}).status_code == 302
    assert _email_of(app, "alice") is None


def test_an_admin_sees_and_sets_an_address_and_nobody_else_can(app, alice, bob):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="alice")).is_admin = True
        bob_id = db.session.scalar(db.select(User.id).filter_by(username="bob"))
        db.session.commit()
    assert bob.post(f"/admin/users/{bob_id}/email", {"email": "x@example.org"}).status_code == 404
    assert _email_of(app, "bob") is None
    response = alice.post(f"/admin/users/{bob_id}/email", {"email": "Bob@Example.org"})
    assert response.status_code == 302
    assert _email_of(app, "bob") == "bob@example.org"
    assert "bob@example.org" in alice.client.get("/admin/users").get_data(as_text=True)
    alice.post("/account/email", {"email": "alice@example.org"})
    alice.post(f"/admin/users/{bob_id}/email", {"email": "ALICE@example.org"})
    assert _email_of(app, "bob") == "bob@example.org"
