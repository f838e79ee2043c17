"""Sign-up: successful sign-ups are counted per address (a class of 40 fits in a minute, a script
making 75 does not), and SIGNUP_MODE can ask for an admin's join code or close sign-up."""

from datetime import timedelta

import pytest

from pyspace.extensions import db
from pyspace.models import JoinCode, User, utcnow
from tests.conftest import PASSWORD, csrf_token_from


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(User))


def _sign_up(make_client, username, join_code=None):
    browser = make_client()
    token = csrf_token_from(browser.client.get("/register").get_data(as_text=True))
    data = {"username": username, "password": PASSWORD, "csrf_token": token}
    if join_code is not None:
        data["join_code"] = join_code
    return browser.client.post("/register", data=data)


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def test_75_sign_ups_from_one_address_in_seconds_are_limited(limits_on, app, make_client):
    statuses = [_sign_up(make_client, f"bot{n}").status_code for n in range(75)]
    assert statuses[:50] == [302] * 50
    assert set(statuses[50:]) == {429}
    assert _users(app) == 50


def test_a_class_of_40_behind_one_address_signs_up_within_a_minute(limits_on, app, make_client):
    assert [_sign_up(make_client, f"pupil{n}").status_code for n in range(40)] == [302] * 40


@pytest.fixture
def invite_mode(app_config):
    app_config["SIGNUP_MODE"] = "invite"


@pytest.fixture
def closed_mode(app_config):
    app_config["SIGNUP_MODE"] = "closed"


def _join_code(app, uses=2, expires_in=timedelta(days=1)) -> str:
    with app.app_context():
        code = JoinCode(max_uses=uses, expires_at=utcnow() + expires_in)
        db.session.add(code)
        db.session.commit()
        return code.code


def test_invite_mode_signs_up_with_a_valid_code_until_it_is_used_up(invite_mode, app, make_client):
    code = _join_code(app, uses=2)
    assert "Join code" in make_client().client.get("/register").get_data(as_text=True)
    assert _sign_up(make_client, "pupil1", code).status_code == 302
    # Typed by hand: case, spaces and dashes don't matter.
    assert _sign_up(make_client, "pupil2", f" {code[:5].lower()}-{code[5:]} ").status_code == 302
    used_up = _sign_up(make_client, "pupil3", code)
    assert used_up.status_code == 422 and "join code is not valid" in used_up.get_data(as_text=True)
    assert _users(app) == 2


@pytest.mark.parametrize("code", ["", "WRONGCODE1", "expired"])
def test_invite_mode_refuses_a_missing_wrong_or_expired_code(invite_mode, app, make_client, code):
    if code == "expired":
        code = _join_code(app, expires_in=timedelta(seconds=-1))
    response = _sign_up(make_client, "pupil1", code)
    assert response.status_code == 422
    assert "join code is not valid" in response.get_data(as_text=True)
    assert _users(app) == 0


def test_a_refused_sign_up_does_not_use_up_the_code(invite_mode, app, make_client):
    code = _join_code(app, uses=1)
    assert _sign_up(make_client, "pupil1", code).status_code == 302
    assert _sign_up(make_client, "pupil1", _join_code(app, uses=1)).status_code == 200  # taken
    with app.app_context():
        assert db.session.scalar(db.select(JoinCode.uses).order_by(JoinCode.id.desc())) == 0


def test_closed_mode_refuses_every_sign_up(closed_mode, app, make_client):
    page = make_client().client.get("/register").get_data(as_text=True)
    assert "Sign-up is closed" in page and 'name="password"' not in page
    assert _sign_up(make_client, "pupil1").status_code == 403
    assert _users(app) == 0


def test_a_sign_up_mode_typo_stops_start_up():
    from pyspace.config import SETTINGS_BY_NAME, ConfigError

    with pytest.raises(ConfigError, match="open or invite or closed"):
        SETTINGS_BY_NAME["SIGNUP_MODE"].parse("invte")


def test_a_json_sign_up_is_refused(app, make_client):
    browser = make_client()
    token = csrf_token_from(browser.client.get("/register").get_data(as_text=True))
    response = browser.client.post(
        "/register",
        json={"username": "pupil1", "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415 and _users(app) == 0
