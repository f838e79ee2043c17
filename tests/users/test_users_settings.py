"""The Data panel's Users settings beyond sign-up: "require e-mail confirmation" (log-ins of
accounts whose address isn't confirmed are refused with EmailNotConfirmed) and "visitors who
never logged in may call functions" (off: anonymous calls are refused as require_user=True
refuses them). Owner only; by default confirmation is not required and visitors may call, so
a widget whose owner never changes them lets every enabled account log in and anyone call."""

import json
import re

import pytest

from pyspace.auth.channel import SERVICES as USERS
from pyspace.extensions import db
from pyspace.gui import routes as gui_routes
from pyspace.gui.call_tokens import visitor_for_call_token
from pyspace.models import DataTable, MailMessage, User, Widget, WidgetSession, utcnow
from pyspace.sandbox.results import RunResult
from pyspace.sandbox.services import RunContext
from tests.conftest import PASSWORD

BOOT_JSON = re.compile(r'<script type="application/json" id="pyspace-boot">(.*?)</script>', re.S)


def switch(client, widget_id: str, setting: str, on: bool):
    return client.post(
        f"/widgets/{widget_id}/tables/{setting}", data={"on": "1" if on else "0"}, htmx=True
    )


def ask(app, widget_id: str, op: str, actor_id=None, session="s1", **payload) -> dict:
    with app.app_context():
        run = RunContext(widget_id=widget_id, actor_id=actor_id, session_id=session)
        return USERS[op]({"op": op, **payload}, run)


def login(app, widget_id: str, email: str) -> dict:
    return ask(app, widget_id, "users_login_with_email", email=email, password=PASSWORD)


def test_settings_default_to_no_confirmation_and_anonymous_calls_allowed(app, alice):
    widget_id = alice.create_widget("Shop")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert widget.users_require_confirmed is False
        assert widget.users_anonymous_calls is True


def test_only_the_owner_changes_the_users_settings(app, alice, bob):
    widget_id = alice.create_widget("Shop", visibility="public")
    assert switch(bob, widget_id, "users-confirmed", True).status_code == 404
    assert switch(bob, widget_id, "users-anonymous-calls", False).status_code == 404
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert (widget.users_require_confirmed, widget.users_anonymous_calls) == (False, True)


def test_unconfirmed_address_cannot_log_in_once_confirmation_is_required(app, alice, make_user):
    widget_id = alice.create_widget("Shop")
    make_user("ann", email="ann@example.org", email_confirmed_at=None)
    make_user("cat", email="cat@example.org", email_confirmed_at=utcnow())
    assert login(app, widget_id, "ann@example.org")["ok"] is True
    response = switch(alice, widget_id, "users-confirmed", True)
    assert response.status_code == 200
    assert "confirmed e-mail address is on" in response.headers.get("HX-Trigger", "")
    refused = login(app, widget_id, "ann@example.org")
    assert refused["ok"] is False and refused["error"] == "EmailNotConfirmed"
    assert login(app, widget_id, "cat@example.org")["ok"] is True
    # A wrong password is still just a failed log-in: it reveals nothing about confirmation.
    wrong = ask(
        app, widget_id, "users_login_with_email", email="ann@example.org", password="nope-nope"
    )
    assert wrong["error"] == "AuthenticationFailed"


def test_unconfirmed_site_account_is_no_user_of_a_widget_requiring_confirmation(
    app, alice, make_user
):
    widget_id = alice.create_widget("Shop")
    ann = make_user("ann", email="ann@example.org", email_confirmed_at=None)
    assert ask(app, widget_id, "get_user", ann, session="")["user"]["values"]["username"] == "ann"
    switch(alice, widget_id, "users-confirmed", True)
    assert ask(app, widget_id, "get_user", ann, session="")["user"] is None
    with app.app_context():
        db.session.get(User, ann).email_confirmed_at = utcnow()
        db.session.commit()
    assert ask(app, widget_id, "get_user", ann, session="")["user"]["values"]["username"] == "ann"


def test_force_login_works_for_an_unconfirmed_account_as_in_anvil(app, alice, make_user):
    widget_id = alice.create_widget("Shop")
    ann = make_user("ann", email="ann@example.org", email_confirmed_at=None)
    row = ask(app, widget_id, "get_user", ann, session="")["user"]
    switch(alice, widget_id, "users-confirmed", True)
    answer = ask(app, widget_id, "users_force_login", table=row["table"], id=row["id"])
    assert answer["ok"] is True and answer["user"]["values"]["username"] == "ann"
    assert ask(app, widget_id, "get_user")["user"]["values"]["username"] == "ann"


def test_signup_requiring_confirmation_returns_the_user_without_logging_in(app, alice):
    app.config["SITE_URL"] = "https://py.example.org"
    widget_id = alice.create_widget("Shop")
    switch(alice, widget_id, "users-signup", True)
    switch(alice, widget_id, "users-confirmed", True)
    answer = ask(
        app, widget_id, "users_signup_with_email", email="new@example.org", password=PASSWORD
    )
    assert answer["ok"] is True and answer["user"]["values"]["email"] == "new@example.org"
    assert ask(app, widget_id, "get_user")["user"] is None
    with app.app_context():
        mailed = db.session.scalars(
            db.select(MailMessage).filter_by(recipients="new@example.org")
        ).all()
        assert [m.subject for m in mailed] == ["Confirm your e-mail address for py.space"]
        assert b"https://py.example.org/account/email/confirm/" in mailed[0].raw


# --- Visitors who never logged in may call functions ----------------------------------------


@pytest.fixture
def fake_runner(monkeypatch):
    calls = []

    def call_function(widget, fn_name, args, kwargs, actor_id, session_id=None):
        calls.append(actor_id)
        return RunResult(ok=True, result="ran")

    monkeypatch.setattr(gui_routes, "call_and_record", call_function)
    return calls


def call_token(client, widget_id: str) -> str:
    page = client.get(f"/widgets/{widget_id}/frame").get_data(as_text=True)
    return json.loads(BOOT_JSON.search(page).group(1))["callToken"]


def call(app, widget_id: str, token: str):
    return app.test_client().post(
        f"/widgets/{widget_id}/call/greet",
        headers={"X-Call-Token": token},
        data=json.dumps({"args": [], "kwargs": {}}),
        content_type="application/json",
    )


def test_anonymous_calls_are_refused_once_switched_off(app, alice, bob, fake_runner):
    widget_id = alice.create_widget("Greeter", "gui", visibility="public")
    anonymous = call_token(app.test_client(), widget_id)
    assert call(app, widget_id, anonymous).get_json() == {"ok": True, "result": "ran"}
    response = switch(alice, widget_id, "users-anonymous-calls", False)
    assert "never logged in may not call" in response.headers.get("HX-Trigger", "")
    refused = call(app, widget_id, anonymous)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["type"] == "AuthenticationFailed"
    assert len(fake_runner) == 1  # the refused call never reached the runner
    assert call(app, widget_id, call_token(bob.client, widget_id)).get_json()["ok"] is True
    switch(alice, widget_id, "users-anonymous-calls", True)
    assert call(app, widget_id, anonymous).get_json()["ok"] is True


def test_a_visitor_logged_in_by_widget_code_may_still_call(app, alice, fake_runner):
    widget_id = alice.create_widget("Greeter", "gui", visibility="public")
    switch(alice, widget_id, "users-anonymous-calls", False)
    token = call_token(app.test_client(), widget_id)
    with app.app_context():
        visitor = visitor_for_call_token(token)
        assert visitor
        db.session.add(
            WidgetSession(widget_id=widget_id, session_id=visitor, login_set=True, login_row_id=1)
        )
        db.session.commit()
    assert call(app, widget_id, token).get_json() == {"ok": True, "result": "ran"}
    with app.app_context():
        found = db.session.scalar(db.select(WidgetSession).filter_by(session_id=visitor))
        found.login_row_id = None
        db.session.commit()
    assert call(app, widget_id, token).status_code == 403


# --- The confirmed_email column -------------------------------------------------------------


def test_confirmed_email_column_follows_the_account(app, alice, make_user):
    widget_id = alice.create_widget("Shop")
    ann = make_user("ann", email="ann@example.org", email_confirmed_at=None)
    row = ask(app, widget_id, "get_user", ann, session="")["user"]
    assert row["values"]["confirmed_email"] is False
    with app.app_context():
        db.session.get(User, ann).email_confirmed_at = utcnow()
        db.session.commit()
    row = ask(app, widget_id, "get_user", ann, session="")["user"]
    assert row["values"]["confirmed_email"] is True
    with app.app_context():
        db.session.get(User, ann).set_email("ann@new.example.org")
        db.session.commit()
    row = ask(app, widget_id, "get_user", ann, session="")["user"]
    assert row["values"]["confirmed_email"] is False


def test_a_users_table_made_before_confirmed_email_gains_it(app, alice, make_user):
    widget_id = alice.create_widget("Shop")
    ann = make_user("ann", email="ann@example.org", email_confirmed_at=utcnow())
    ask(app, widget_id, "get_user", ann, session="")
    with app.app_context():
        table = db.session.scalar(
            db.select(DataTable).filter_by(widget_id=widget_id, is_users=True)
        )
        db.session.delete(next(c for c in table.columns if c.name == "confirmed_email"))
        db.session.commit()
    row = ask(app, widget_id, "get_user", ann, session="")["user"]
    assert row["values"]["confirmed_email"] is True


def form_of(page: str, css_class: str) -> str:
    return page.split(f'class="inline-form {css_class}"')[1].split("</form>", maxsplit=1)[0]


def test_data_panel_shows_both_settings_with_their_state(alice):
    widget_id = alice.create_widget("Shop")
    switch(alice, widget_id, "users-anonymous-calls", False)
    page = alice.client.get(f"/widgets/{widget_id}/tables").get_data(as_text=True)
    confirmed = form_of(page, "tables-users-confirmed")
    anonymous = form_of(page, "tables-users-anonymous-calls")
    assert "require e-mail confirmation" in confirmed and "<strong>off</strong>" in confirmed
    assert "never logged in may call" in anonymous and "<strong>off</strong>" in anonymous
    assert 'name="on" value="1"' in anonymous  # the button switches it back on
