"""Teacher tools over HTTP: classes, pupils' widgets, handing out a widget, one-time links,
bulk accounts. CSRF stays on throughout."""

import io
import re
from datetime import timedelta

import pytest

from pyspace.classes.bulk import NO_PASSWORD
from pyspace.extensions import db
from pyspace.models import (
    ClassroomMember,
    JoinCode,
    LoginLink,
    Run,
    Secret,
    User,
    Widget,
    utcnow,
)
from pyspace.secrets import vault
from tests.conftest import PASSWORD, csrf_token_from

SECRET_NAME = "WEATHER_API_KEY"
TEACHER_VALUE = "teacher-owm-5f1e2d-never-shown"
PUPIL_VALUE = "pupil-owm-9a8b7c-never-shown"
LINK_RE = re.compile(r"https?://[^/<\s]+(/login/once/[A-Za-z0-9_-]+)")


def _make_teacher(app, username: str) -> None:
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username=username).values(is_teacher=True))
        db.session.commit()


@pytest.fixture
def teacher(app, make_client):
    teacher = make_client()
    assert teacher.register("teach").status_code == 302
    _make_teacher(app, "teach")
    return teacher


def _create_class(teacher, name="7B Computing") -> int:
    response = teacher.post("/classes/new", {"name": name, "max_uses": "40", "days": "14"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _add_pupils(app, classroom_id: int, count: int, prefix="pupil") -> list[int]:
    """`count` accounts put straight into the class (no password hashing: quick)."""
    ids = []
    with app.app_context():
        for n in range(count):
            user = User(username=f"{prefix}{n:02d}", password_hash=NO_PASSWORD)
            db.session.add(user)
            db.session.flush()
            db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=user.id))
            ids.append(user.id)
        db.session.commit()
    return ids


def _widget_with_secret(app, client_accounts, value: str, title="Weather") -> str:
    widget_id = client_accounts.create_widget(
        title, server_code="import anvil.secrets\nprint('hello')\n"
    )
    with app.app_context():
        db.session.add(
            Secret(
                widget_id=widget_id,
                name=SECRET_NAME,
                ciphertext=vault.encrypt_value(value),
                description="Your OpenWeatherMap key",
            )
        )
        db.session.commit()
    return widget_id


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(username=username))


# --- Handing out a widget ---------------------------------------------------------------------


def test_handing_a_widget_with_secrets_to_a_class_of_30_gives_every_pupil_a_blank_fork(
    app, teacher
):
    classroom_id = _create_class(teacher)
    pupil_ids = _add_pupils(app, classroom_id, 30)
    widget_id = _widget_with_secret(app, teacher, TEACHER_VALUE)

    page = teacher.client.get(f"/classes/{classroom_id}").get_data(as_text=True)
    assert "Weather" in page and TEACHER_VALUE not in page
    response = teacher.post(f"/classes/{classroom_id}/hand-out", {"widget_id": widget_id})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "30 of 30 pupils got a copy" in body
    assert TEACHER_VALUE not in body
    with app.app_context():
        forks = list(db.session.scalars(db.select(Widget).filter_by(forked_from_id=widget_id)))
        assert sorted(fork.owner_id for fork in forks) == sorted(pupil_ids)
        for fork in forks:
            assert fork.visibility == "private"
            assert [(s.name, s.ciphertext, s.fingerprint) for s in fork.secrets] == [
                (SECRET_NAME, None, None)
            ]
            assert TEACHER_VALUE not in repr(
                [getattr(fork, f) for f in ("server_code", "client_code", "html", "description")]
            )
        # The original keeps its value.
        original = db.session.get(Widget, widget_id)
        assert vault.decrypt_value(original.secrets[0].ciphertext) == TEACHER_VALUE
    # And the teacher's view of a pupil's fork shows the name, blank.
    pupil_page = teacher.client.get(f"/classes/{classroom_id}/pupils/{pupil_ids[0]}")
    text = pupil_page.get_data(as_text=True)
    assert SECRET_NAME in text and "blank" in text and TEACHER_VALUE not in text


def test_handing_out_reports_the_pupils_whose_widget_quota_is_full_and_gives_the_others_a_copy(
    app_config, app, teacher
):
    app.config["QUOTA_WIDGETS"] = 1
    classroom_id = _create_class(teacher)
    full, free = _add_pupils(app, classroom_id, 2)
    with app.app_context():
        db.session.add(Widget(owner_id=full, title="Mine already"))
        db.session.commit()
    app.config["QUOTA_WIDGETS"] = 2  # the teacher's own widget must fit
    widget_id = _widget_with_secret(app, teacher, TEACHER_VALUE)
    app.config["QUOTA_WIDGETS"] = 1

    response = teacher.post(f"/classes/{classroom_id}/hand-out", {"widget_id": widget_id})

    body = response.get_data(as_text=True)
    assert "1 of 2 pupils got a copy" in body
    assert "They have 1 widgets" in body
    with app.app_context():
        owners = set(
            db.session.scalars(db.select(Widget.owner_id).filter_by(forked_from_id=widget_id))
        )
    assert owners == {free}

    # Once there is room, handing out again fills the gap and gives nobody a second copy.
    app.config["QUOTA_WIDGETS"] = 5
    again = teacher.post(f"/classes/{classroom_id}/hand-out", {"widget_id": widget_id})
    assert "1 of 2 pupils got a copy" in again.get_data(as_text=True)
    assert "Already has a copy" in again.get_data(as_text=True)
    with app.app_context():
        owners = list(
            db.session.scalars(db.select(Widget.owner_id).filter_by(forked_from_id=widget_id))
        )
    assert sorted(owners) == sorted([full, free])


def test_a_teacher_can_only_hand_out_their_own_widgets(app, teacher, bob):
    classroom_id = _create_class(teacher)
    _add_pupils(app, classroom_id, 2)
    bobs_widget = bob.create_widget("Bob's", visibility="public")

    response = teacher.post(f"/classes/{classroom_id}/hand-out", {"widget_id": bobs_widget})

    assert response.status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(
                db.select(db.func.count()).select_from(Widget).filter_by(forked_from_id=bobs_widget)
            )
            == 0
        )


# --- Who sees what ------------------------------------------------------------------------------


def test_a_teacher_cant_see_another_teachers_class_or_a_pupil_outside_their_classes(
    app, teacher, make_client
):
    other = make_client()
    assert other.register("other").status_code == 302
    _make_teacher(app, "other")
    theirs = _create_class(other, "Other class")
    (their_pupil,) = _add_pupils(app, theirs, 1, prefix="theirs")
    mine = _create_class(teacher)
    (my_pupil,) = _add_pupils(app, mine, 1, prefix="mine")

    assert "Other class" not in teacher.client.get("/classes").get_data(as_text=True)
    for url in (
        f"/classes/{theirs}",
        f"/classes/{theirs}/accounts",
        f"/classes/{theirs}/pupils/{their_pupil}",
        f"/classes/{mine}/pupils/{their_pupil}",  # a pupil outside my class, through my class
        f"/classes/{theirs}/pupils/{my_pupil}",
    ):
        assert teacher.client.get(url).status_code == 404, url
    for url in (
        f"/classes/{theirs}/pupils/{their_pupil}/disable",
        f"/classes/{mine}/pupils/{their_pupil}/reset-password",
        f"/classes/{theirs}/hand-out",
    ):
        assert teacher.post(url).status_code == 404, url
    with app.app_context():
        assert not db.session.get(User, their_pupil).is_disabled
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginLink)) == 0


def test_classes_are_404_to_accounts_that_are_not_teachers(app, teacher, bob, make_client):
    classroom_id = _create_class(teacher)
    anonymous = make_client()
    for visitor in (bob, anonymous):
        assert visitor.client.get("/classes").status_code == 404
        assert visitor.client.get(f"/classes/{classroom_id}").status_code == 404
    assert (
        bob.post("/classes/new", {"name": "Mine", "max_uses": "5", "days": "1"}).status_code == 404
    )
    # A teacher whose role was taken away can't open their classes any more.
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username="teach").values(is_teacher=False))
        db.session.commit()
    assert teacher.client.get(f"/classes/{classroom_id}").status_code == 404


def test_a_pupils_secret_value_never_appears_on_the_teachers_pages(app, teacher, make_client):
    classroom_id = _create_class(teacher)
    pupil = make_client()
    assert pupil.register("pupil").status_code == 302
    pupil_id = _user_id(app, "pupil")
    with app.app_context():
        db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=pupil_id))
        db.session.commit()
    widget_id = _widget_with_secret(app, pupil, PUPIL_VALUE, title="Pupil weather")
    with app.app_context():
        # A run whose output held the value (stored for the owner) and a harmless one.
        db.session.add_all(
            [
                Run(
                    widget_id=widget_id,
                    kind="run",
                    status="ok",
                    stdout=f"key={PUPIL_VALUE}",
                    held_secret=True,
                ),
                Run(widget_id=widget_id, kind="run", status="ok", stdout="sunny and 21 C"),
            ]
        )
        db.session.commit()

    page = teacher.client.get(f"/classes/{classroom_id}/pupils/{pupil_id}")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Pupil weather" in body and "print(&#39;hello&#39;)" in body
    assert SECRET_NAME in body and "has a value" in body
    assert "sunny and 21 C" in body and "withheld" in body
    assert PUPIL_VALUE not in body
    assert PUPIL_VALUE not in teacher.client.get(f"/classes/{classroom_id}").get_data(as_text=True)


def test_a_pupil_who_signs_up_with_the_class_code_is_listed_in_the_class(app, teacher, make_client):
    classroom_id = _create_class(teacher)
    with app.app_context():
        code = db.session.scalar(db.select(JoinCode.code).filter_by(classroom_id=classroom_id))
    pupil = make_client()
    token = csrf_token_from(pupil.client.get("/register").get_data(as_text=True))
    response = pupil.client.post(
        "/register",
        data={
            "username": "newpupil",
            "password": PASSWORD,
            "join_code": code.lower(),
            "csrf_token": token,
        },
    )
    assert response.status_code == 302

    page = teacher.client.get(f"/classes/{classroom_id}").get_data(as_text=True)
    assert "newpupil" in page and "1 of 40 used" in page


# --- One-time links -------------------------------------------------------------------------------


def test_a_one_time_password_link_works_once(app, teacher, make_client):
    classroom_id = _create_class(teacher)
    pupil = make_client()
    assert pupil.register("forgetful").status_code == 302
    pupil_id = _user_id(app, "forgetful")
    with app.app_context():
        db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=pupil_id))
        db.session.commit()

    sheet = teacher.post(f"/classes/{classroom_id}/pupils/{pupil_id}/reset-password")
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    path = LINK_RE.search(sheet.get_data(as_text=True)).group(1)

    browser = make_client()
    assert "forgetful" in browser.client.get(path).get_data(as_text=True)
    token = browser.csrf_token()
    used = browser.client.post(
        path, data={"new_password": "brand new password", "csrf_token": token}
    )
    assert used.status_code == 302
    assert browser.client.get("/account").status_code == 200  # logged in as the pupil
    # The pupil's old session ended with the reset.
    assert pupil.client.get("/account").status_code == 302

    again = make_client()
    assert again.client.get(path).status_code == 404
    second = again.client.post(
        path, data={"new_password": "attacker password", "csrf_token": again.csrf_token()}
    )
    assert second.status_code == 404
    assert again.login("forgetful", "attacker password").status_code != 302
    assert again.login("forgetful", "brand new password").status_code == 302


def test_an_expired_login_link_does_not_work(app, teacher, make_client):
    classroom_id = _create_class(teacher)
    (pupil_id,) = _add_pupils(app, classroom_id, 1)
    sheet = teacher.post(f"/classes/{classroom_id}/pupils/{pupil_id}/reset-password")
    path = LINK_RE.search(sheet.get_data(as_text=True)).group(1)
    with app.app_context():
        db.session.execute(db.update(LoginLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    browser = make_client()
    response = browser.client.post(
        path, data={"new_password": "brand new password", "csrf_token": browser.csrf_token()}
    )
    assert response.status_code == 404
    assert browser.login("pupil00", "brand new password").status_code != 302


def test_a_teacher_cant_reset_or_disable_an_admin_or_teacher_in_their_class(
    app, teacher, make_client
):
    classroom_id = _create_class(teacher)
    admin = make_client()
    assert admin.register("boss").status_code == 302
    admin_id = _user_id(app, "boss")
    with app.app_context():
        db.session.execute(db.update(User).filter_by(id=admin_id).values(is_admin=True))
        db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=admin_id))
        db.session.commit()
    assert (
        teacher.post(f"/classes/{classroom_id}/pupils/{admin_id}/reset-password").status_code == 404
    )
    assert teacher.post(f"/classes/{classroom_id}/pupils/{admin_id}/disable").status_code == 404
    with app.app_context():
        assert not db.session.get(User, admin_id).is_disabled
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginLink)) == 0


def test_a_teacher_disables_a_pupil_who_is_logged_out_and_enables_them_again(
    app, teacher, make_client
):
    classroom_id = _create_class(teacher)
    pupil = make_client()
    assert pupil.register("noisy").status_code == 302
    pupil_id = _user_id(app, "noisy")
    with app.app_context():
        db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=pupil_id))
        db.session.commit()

    assert teacher.post(f"/classes/{classroom_id}/pupils/{pupil_id}/disable").status_code == 302
    assert pupil.client.get("/account").status_code == 302
    assert pupil.login("noisy").status_code != 302
    assert teacher.post(f"/classes/{classroom_id}/pupils/{pupil_id}/enable").status_code == 302
    assert pupil.login("noisy").status_code == 302


# --- Bulk accounts ----------------------------------------------------------------------------


def _upload(teacher, classroom_id: int, text: str):
    return teacher.post(
        f"/classes/{classroom_id}/accounts",
        {"csv": (io.BytesIO(text.encode()), "class.csv")},
        content_type="multipart/form-data",
    )


def test_bulk_csv_makes_accounts_in_the_class_with_a_sheet_of_one_time_links(
    app, teacher, make_client
):
    classroom_id = _create_class(teacher)

    response = _upload(teacher, classroom_id, "name\nAda_L\ngrace-h,grace@example.org\n\nalan_t\n")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    paths = [match.group(1) for match in LINK_RE.finditer(body)]
    assert len(paths) == 3 and len(set(paths)) == 3
    assert all(name in body for name in ("ada_l", "grace-h", "alan_t"))
    page = teacher.client.get(f"/classes/{classroom_id}").get_data(as_text=True)
    assert all(name in page for name in ("ada_l", "grace-h", "alan_t"))
    # Nobody can log in to a new account with a password until its link is used.
    outsider = make_client()
    assert outsider.login("ada_l", NO_PASSWORD).status_code != 302
    first = make_client()
    token = first.csrf_token()
    assert (
        first.client.post(
            paths[0], data={"new_password": "ada's password", "csrf_token": token}
        ).status_code
        == 302
    )
    assert make_client().login("ada_l", "ada's password").status_code == 302


def test_bulk_csv_with_a_bad_row_reports_the_row_and_creates_nothing(app, teacher, make_client):
    classroom_id = _create_class(teacher)
    make_client().register("taken_name")
    with app.app_context():
        users_before = db.session.scalar(db.select(db.func.count()).select_from(User))

    response = _upload(teacher, classroom_id, "ok_one\nbad name!\nok_two\ntaken_name\nok_one\n")

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No account was made" in body
    assert "Line 2" in body and "Line 4" in body and "Line 5" in body
    assert "That username is taken" in body and "same name as line 1" in body
    assert "/login/once/" not in body
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == users_before
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginLink)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(ClassroomMember)) == 0


# --- The teacher role ---------------------------------------------------------------------------


def test_an_admin_grants_and_takes_away_the_teacher_role_on_the_users_page(app, alice, bob):
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username="alice").values(is_admin=True))
        db.session.commit()
    bob_id = _user_id(app, "bob")
    assert bob.client.get("/classes").status_code == 404

    response = alice.post(f"/admin/users/{bob_id}/teacher", htmx=True)
    assert response.status_code == 200 and "Teacher" in response.get_data(as_text=True)
    assert bob.client.get("/classes").status_code == 200

    assert alice.post(f"/admin/users/{bob_id}/not-teacher").status_code == 302
    assert bob.client.get("/classes").status_code == 404


def test_flask_users_make_teacher_grants_and_revokes_the_role(app, cli_runner, alice):
    result = cli_runner.invoke(args=["users", "make-teacher", "alice"])
    assert result.exit_code == 0 and "now a teacher" in result.output
    assert "teacher" in cli_runner.invoke(args=["users", "list"]).output
    result = cli_runner.invoke(args=["users", "make-teacher", "alice", "--revoke"])
    assert result.exit_code == 0
    with app.app_context():
        assert not db.session.scalar(db.select(User).filter_by(username="alice")).is_teacher


def test_a_mistyped_class_code_is_refused_rather_than_signing_up_outside_the_class(
    app, make_client
):
    pupil = make_client()
    token = csrf_token_from(pupil.client.get("/register").get_data(as_text=True))
    response = pupil.client.post(
        "/register",
        data={"username": "lost", "password": PASSWORD, "join_code": "NOPE", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "join code is not valid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="lost")) is None
