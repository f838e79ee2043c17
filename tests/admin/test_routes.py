"""Administration: the `flask users` commands and the admin users page."""

import pytest

from pyspace.extensions import db
from pyspace.models import User
from tests.conftest import PASSWORD


def _user(app, username):
    with app.app_context():
        return db.session.scalar(db.select(User).filter_by(username=username))


def _make_admin(app, username):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username=username)).is_admin = True
        db.session.commit()


# --- flask users … -------------------------------------------------------------------------


def test_cli_creates_users_and_admins(app, cli_runner):
    result = cli_runner.invoke(
        args=["users", "create", "Teacher", "--admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin user teacher." in result.output
    user = _user(app, "teacher")
    assert user.is_admin and user.check_password(PASSWORD)
    result = cli_runner.invoke(args=["users", "create", "pupil", "--password", PASSWORD])
    assert result.exit_code == 0 and not _user(app, "pupil").is_admin


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("alice", PASSWORD, "The username 'alice' is taken."),
        ("a!", PASSWORD, "Usernames are 3–32 characters"),
        ("newbie", "short", "Passwords need at least 8 characters."),
    ],
)
def test_cli_create_refuses_bad_input(alice, cli_runner, username, password, message):
    result = cli_runner.invoke(args=["users", "create", username, "--password", password])
    assert result.exit_code != 0 and message in result.output


def test_cli_make_admin_disable_enable_and_list(app, alice, cli_runner):
    assert cli_runner.invoke(args=["users", "make-admin", "alice"]).exit_code == 0
    assert _user(app, "alice").is_admin
    assert cli_runner.invoke(args=["users", "disable", "ALICE"]).exit_code == 0
    assert _user(app, "alice").is_disabled
    listing = cli_runner.invoke(args=["users", "list"])
    assert listing.exit_code == 0 and listing.output.startswith("alice\tadmin,disabled\t")
    assert cli_runner.invoke(args=["users", "enable", "alice"]).exit_code == 0
    assert not _user(app, "alice").is_disabled
    assert cli_runner.invoke(args=["users", "list"]).output.startswith("alice\tadmin\t")


@pytest.mark.parametrize("command", ["make-admin", "disable", "enable"])
def test_cli_reports_unknown_users(app, cli_runner, command):
    result = cli_runner.invoke(args=["users", command, "ghost"])
    assert result.exit_code != 0 and "No user named 'ghost'." in result.output


def test_cli_disable_logs_the_user_out(app, alice, cli_runner):
    cli_runner.invoke(args=["users", "disable", "alice"])
    assert alice.client.get("/widgets/new").status_code == 302


# --- /admin/users -----------------------------------------------------------------------------


@pytest.fixture
def teacher(app, make_client):
    browser = make_client()
    browser.register("teacher")
    _make_admin(app, "teacher")
    return browser


@pytest.fixture
def pupil_id(app, make_client):
    make_client().register("pupil")
    return _user(app, "pupil").id


@pytest.mark.parametrize("who", ["anonymous", "member"])
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/admin/users"),
        ("post", "/admin/users/{id}/disable"),
        ("post", "/admin/users/{id}/enable"),
    ],
)
def test_admin_pages_are_404_for_everyone_but_admins(app, make_client, pupil_id, who, method, path):
    browser = make_client()
    if who == "member":
        browser.register("member")
    url = path.format(id=pupil_id)
    response = browser.client.get(url) if method == "get" else browser.post(url)
    assert response.status_code == 404
    assert not _user(app, "pupil").is_disabled


def test_admin_sees_every_account(teacher, pupil_id):
    page = teacher.client.get("/admin/users").get_data(as_text=True)
    assert "pupil" in page and "teacher" in page and "Disable" in page
    assert 'href="/admin/users"' in page  # the header link, for admins only


def test_header_link_to_admin_is_only_for_admins(alice):
    assert "/admin/users" not in alice.client.get("/").get_data(as_text=True)


def test_admin_disables_and_enables_an_account(app, teacher, pupil_id, make_client):
    pupil = make_client()
    pupil.login("pupil")
    response = teacher.post(f"/admin/users/{pupil_id}/disable")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert _user(app, "pupil").is_disabled
    assert "pupil is disabled." in teacher.client.get("/admin/users").get_data(as_text=True)
    # Logged out at once, and can't log back in.
    assert pupil.client.get("/widgets/new").status_code == 302
    assert pupil.login("pupil").status_code == 200
    teacher.post(f"/admin/users/{pupil_id}/enable")
    assert not _user(app, "pupil").is_disabled
    # Enabling does not revive the old session: the pupil logs in afresh.
    assert pupil.client.get("/widgets/new").status_code == 302
    assert pupil.login("pupil").status_code == 302


def test_admin_disable_with_htmx_swaps_the_row_and_toasts(app, teacher, pupil_id):
    response = teacher.post(f"/admin/users/{pupil_id}/disable", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        body.startswith(f'<tr id="user-{pupil_id}">') and "Enable" in body and "<html" not in body
    )
    assert "pupil is disabled." in response.headers["HX-Trigger"]


def test_admin_cannot_disable_themself(app, teacher):
    teacher_id = _user(app, "teacher").id
    response = teacher.post(f"/admin/users/{teacher_id}/disable")
    assert response.status_code == 302
    assert not _user(app, "teacher").is_disabled
    assert "You can&#39;t disable your own account." in teacher.client.get("/admin/users").get_data(
        as_text=True
    )


def test_admin_action_on_a_missing_user_is_404(teacher):
    assert teacher.post("/admin/users/99999/disable").status_code == 404
