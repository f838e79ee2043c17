"""signup_with_email from widget code (channel service) and the Data panel's Users setting
that allows it: off by default, owner only, and the site's sign-up mode and rate apply."""

import pytest

from pyspace.auth.channel import SERVICES as USERS
from pyspace.extensions import db
from pyspace.models import User, Widget
from pyspace.sandbox.services import RunContext
from tests.conftest import PASSWORD


def signup(app, widget_id: str, email: str, password: str = PASSWORD, session="s1") -> dict:
    with app.app_context():
        run = RunContext(widget_id=widget_id, actor_id=None, session_id=session)
        return USERS["users_signup_with_email"](
            {"op": "users_signup_with_email", "email": email, "password": password}, run
        )


def allow(alice, widget_id: str, on: bool = True):
    return alice.post(
        f"/widgets/{widget_id}/tables/users-signup", data={"on": "1" if on else "0"}, htmx=True
    )


def test_signup_is_refused_until_the_owner_allows_it(app, alice):
    widget_id = alice.create_widget("Shop")
    refused = signup(app, widget_id, "ann@example.org")
    assert refused["ok"] is False and "does not let people sign up" in refused["message"]
    response = allow(alice, widget_id)
    assert response.status_code == 200 and "Signing up from the widget is on" in (
        response.headers.get("HX-Trigger", "")
    )
    answer = signup(app, widget_id, "Ann.Lee@Example.org")
    assert answer["ok"], answer
    assert answer["user"]["values"]["email"] == "ann.lee@example.org"
    assert answer["user"]["values"]["username"] == "ann-lee"
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email="ann.lee@example.org"))
        assert user is not None and user.check_password(PASSWORD)
        # Logged in to the widget for the visitor session's later calls.
        run = RunContext(widget_id=widget_id, actor_id=None, session_id="s1")
        assert USERS["get_user"]({"op": "get_user"}, run)["user"]["values"]["username"] == (
            "ann-lee"
        )


def test_only_the_owner_switches_signup_on(app, alice, bob):
    widget_id = alice.create_widget("Shop", visibility="public")
    assert allow(bob, widget_id).status_code == 404
    with app.app_context():
        assert db.session.get(Widget, widget_id).users_allow_signup is False


@pytest.mark.parametrize(
    ("email", "password", "error"),
    [
        ("alice@example.org", PASSWORD, "UserExists"),
        ("new@example.org", "short", "PasswordNotAcceptable"),
        ("not an address", PASSWORD, "AuthenticationFailed"),
    ],
)
def test_signup_refusals_raise_anvils_exceptions(app, alice, email, password, error):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="alice")).email = "alice@example.org"
        db.session.commit()
    widget_id = alice.create_widget("Shop")
    allow(alice, widget_id)
    answer = signup(app, widget_id, email, password)
    assert answer["ok"] is False and answer["error"] == error


@pytest.mark.parametrize("mode", ["invite", "closed"])
def test_signup_follows_the_sites_signup_mode(app, alice, mode):
    widget_id = alice.create_widget("Shop")
    allow(alice, widget_id)
    app.config["SIGNUP_MODE"] = mode
    try:
        answer = signup(app, widget_id, "ann@example.org")
    finally:
        app.config["SIGNUP_MODE"] = "open"
    assert answer["ok"] is False and "sign-up page" in answer["message"]


@pytest.fixture
def rate_limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, SIGNUP_RATE_LIMIT="2 per minute")


def test_signups_from_one_widget_follow_the_sites_signup_rate(rate_limited, app, alice):
    widget_id = alice.create_widget("Shop")
    allow(alice, widget_id)
    answers = [signup(app, widget_id, f"p{n}@example.org") for n in range(3)]
    assert [a["ok"] for a in answers] == [True, True, False]
    assert "Too many new accounts" in answers[2]["message"]
