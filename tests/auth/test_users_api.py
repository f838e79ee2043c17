"""anvil.users for widget code: who started a run or call, `require_user`, and the header of an
Anvil server module importing cleanly — in real sandboxes, through the site's own routes."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyspace.auth.channel import get_user
from pyspace.extensions import db
from pyspace.models import User
from pyspace.sandbox import runner_for
from pyspace.sandbox.services import RunContext, services_for
from pyspace.widgets.starter_code import starter_code
from tests.sandbox.helpers import ROOMY_LIMITS, run_json

ROOT = Path(__file__).resolve().parents[2]
BOOT_JSON = re.compile(r'<script type="application/json" id="pyspace-boot">(.*?)</script>', re.S)

# The header of an Anvil server module, less the anvil.tables lines (py.space has no tables yet).
ANVIL_HEADER = (
    "import anvil.secrets\n"
    "import anvil.users\n"
    "import anvil.tables as tables\n"
    "import anvil.tables.query as q\n"
    "from anvil.tables import app_tables\n"
    "import anvil.server\n"
)

WHO_AM_I = (
    ANVIL_HEADER
    + """
user = anvil.users.get_user()
if user is None:
    print("nobody")
else:
    print(user["username"], user["email"], sorted(dict(user)))
"""
)


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(username=username))


def frame_token(accounts, widget_id: str) -> str:
    response = accounts.client.get(f"/widgets/{widget_id}/frame")
    assert response.status_code == 200
    return json.loads(BOOT_JSON.search(response.get_data(as_text=True)).group(1))


def gui_call(app, token: str, widget_id: str, fn: str) -> dict:
    response = app.test_client().post(
        f"/widgets/{widget_id}/call/{fn}",
        headers={"X-Call-Token": token},
        data=json.dumps({"args": [], "kwargs": {}}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --- Runs ----------------------------------------------------------------------------------


def give_email(app, username: str, email: str) -> None:
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username=username)).email = email
        db.session.commit()


def test_header_imports_and_get_user_is_the_account_that_pressed_run(app, alice):
    give_email(app, "alice", "alice@example.org")
    widget_id = alice.create_widget("Who", server_code=WHO_AM_I)
    answer = run_json(alice, widget_id)
    assert answer["error"] is None
    assert answer["stdout"] == (
        "alice alice@example.org ['confirmed_email', 'email', 'enabled', 'last_login', "
        "'signed_up', 'username']\n"
    )


REFUSED = (
    ANVIL_HEADER
    + """
for name in ("login_with_form", "signup_with_form", "send_password_reset_email"):
    try:
        getattr(anvil.users, name)("x@example.org")
    except NotImplementedError as error:
        print(name, "on the site itself" in str(error))
"""
)


def test_log_in_functions_not_provided_say_so_when_called(alice):
    widget_id = alice.create_widget("Refused", server_code=REFUSED)
    answer = run_json(alice, widget_id)
    assert answer["error"] is None, answer
    assert answer["stdout"].split() == [
        "login_with_form",
        "True",
        "signup_with_form",
        "True",
        "send_password_reset_email",
        "True",
    ]


def test_get_user_names_the_viewer_not_the_owner(app, alice, bob):
    widget_id = alice.create_widget("Who", server_code=WHO_AM_I, visibility="public")
    answer = run_json(bob, widget_id)
    assert answer["stdout"].startswith("bob None ")


def test_get_user_is_none_for_an_anonymous_viewer(alice, make_client):
    widget_id = alice.create_widget("Who", server_code=WHO_AM_I, visibility="public")
    assert run_json(make_client(), widget_id)["stdout"] == "nobody\n"


def test_get_user_is_none_in_a_run_started_by_no_account(app, alice):
    # Scheduled and background tasks run with no account behind them: actor_id None.
    widget_id = alice.create_widget("Who", server_code=WHO_AM_I)
    with app.app_context():
        result = runner_for(app).run(widget_id, WHO_AM_I, None)
    assert result.ok, result.error
    assert result.stdout == "nobody\n"


def test_starter_code_of_new_widgets_uses_the_header_and_runs(alice):
    for kind in ("script", "gui"):
        assert starter_code(kind)["server_code"].startswith(ANVIL_HEADER)
    widget_id = alice.create_widget("Starter")
    answer = run_json(alice, widget_id)
    assert answer["error"] is None and answer["stdout"] == "Hello from py.space!\n"


# --- The channel service -------------------------------------------------------------------


def test_get_user_service_answers_for_the_runs_account_whatever_the_request_says(app, alice, bob):
    alice_id, bob_id = user_id(app, "alice"), user_id(app, "bob")
    give_email(app, "bob", "bob@example.org")
    widget_id = alice.create_widget("Who")
    with app.app_context():
        run = RunContext(widget_id=widget_id, actor_id=alice_id)
        forged = {"op": "get_user", "id": bob_id, "user_id": bob_id, "username": "bob"}
        values = get_user(forged, run)["user"]["values"]
        assert (values["username"], values["email"]) == ("alice", None)
        assert services_for(app)["get_user"] is get_user


def test_get_user_service_finds_the_account_once_per_run(app, alice, monkeypatch):
    widget_id = alice.create_widget("Who")
    with app.app_context():
        run = RunContext(widget_id=widget_id, actor_id=user_id(app, "alice"))
        first = get_user({"op": "get_user"}, run)
        monkeypatch.setattr(db.session, "get", lambda *args: pytest.fail("asked again"))
        assert get_user({"op": "get_user"}, run) == first


def test_get_user_service_answers_none_for_a_disabled_account(app, alice):
    alice_id = user_id(app, "alice")
    with app.app_context():
        db.session.get(User, alice_id).is_disabled = True
        db.session.commit()
        answer = get_user({"op": "get_user"}, RunContext(widget_id="w1", actor_id=alice_id))
    # No Users-table row is made for a disabled account.
    assert answer == {"ok": True, "user": None}


# --- GUI calls: require_user -----------------------------------------------------------------

GUI_SERVER_CODE = (
    ANVIL_HEADER
    + """
@anvil.server.callable
def who():
    user = anvil.users.get_user()
    return user and user["username"]

@anvil.server.callable(require_user=True)
def members_only():
    return "welcome " + anvil.users.get_user()["username"]

@anvil.server.callable(require_user=True)
def never_runs_for_strangers():
    raise ValueError("the function body ran")

@anvil.server.callable("alice_only", require_user=lambda user: user["username"] == "alice")
def for_alice():
    return "hello alice"
"""
)


@pytest.fixture
def gui_widget(alice):
    return alice.create_widget("Members", "gui", server_code=GUI_SERVER_CODE, visibility="public")


@pytest.fixture
def tokens(alice, bob, make_client, gui_widget):
    """A call token for each kind of viewer of the GUI widget."""
    return {
        "alice": frame_token(alice, gui_widget)["callToken"],
        "bob": frame_token(bob, gui_widget)["callToken"],
        "anonymous": frame_token(make_client(), gui_widget)["callToken"],
    }


@pytest.mark.parametrize("viewer, expected", [("alice", "alice"), ("anonymous", None)])
def test_header_imports_in_a_gui_server_function_that_sees_its_caller(
    app, gui_widget, tokens, viewer, expected
):
    assert gui_call(app, tokens[viewer], gui_widget, "who") == {"ok": True, "result": expected}


def test_require_user_refuses_an_anonymous_caller_before_the_function_runs(app, gui_widget, tokens):
    for fn in ("members_only", "never_runs_for_strangers"):
        answer = gui_call(app, tokens["anonymous"], gui_widget, fn)
        assert answer == {
            "ok": False,
            "error": {
                "type": "AuthenticationFailed",
                "message": "You must be logged in to call this server function",
            },
        }


@pytest.mark.parametrize("viewer", ["alice", "bob"])
def test_require_user_lets_a_logged_in_viewer_through(app, gui_widget, tokens, viewer):
    answer = gui_call(app, tokens[viewer], gui_widget, "members_only")
    assert answer == {"ok": True, "result": f"welcome {viewer}"}


@pytest.mark.parametrize(
    "viewer, expected",
    [
        ("alice", {"ok": True, "result": "hello alice"}),
        (
            "bob",
            {
                "ok": False,
                "error": {
                    "type": "PermissionDenied",
                    "message": "You do not have permission to call server function 'alice_only'",
                },
            },
        ),
        (
            "anonymous",
            {
                "ok": False,
                "error": {
                    "type": "AuthenticationFailed",
                    "message": "You must be logged in to call server function 'alice_only'",
                },
            },
        ),
    ],
)
def test_require_user_function_decides_who_may_call(app, gui_widget, tokens, viewer, expected):
    assert gui_call(app, tokens[viewer], gui_widget, "alice_only") == expected


# --- Client code: the viewer from the frame's boot data --------------------------------------


@pytest.mark.parametrize("viewer", ["alice", "anonymous"])
def test_frame_tells_client_code_the_viewers_username_and_email_and_nothing_else(
    app, alice, make_client, gui_widget, viewer
):
    give_email(app, "alice", "alice@example.org")
    accounts = alice if viewer == "alice" else make_client()
    boot = frame_token(accounts, gui_widget)
    assert boot["viewerUsername"] == ("alice" if viewer == "alice" else None)
    assert boot["viewerEmail"] == ("alice@example.org" if viewer == "alice" else None)
    boot_text = json.dumps(boot)
    alice_id = user_id(app, "alice")
    assert f'"{alice_id}"' not in boot_text and "password" not in boot_text
    assert set(boot) == {
        "html",
        "clientCode",
        "clientPython",
        "pyodideUrl",
        "micropythonUrl",
        "snapshotUrl",
        "runtimeUrl",
        "runtimeFiles",
        "callUrl",
        "callTokenHeader",
        "callToken",
        "viewerUsername",
        "viewerEmail",
    }
    assert "anvil/users.py" in boot["runtimeFiles"]


CLIENT_PROGRAM = """
import sys, types
frame = types.ModuleType("_pyspace_frame")
frame.viewerUsername = {username!r}
frame.viewerEmail = {email!r}
frame.callBlocking = lambda fn, body: {answer!r}
sys.modules["_pyspace_frame"] = frame
ffi = types.ModuleType("pyodide.ffi")
ffi.can_run_sync = lambda: False
ffi.run_sync = None
sys.modules["pyodide"] = types.ModuleType("pyodide")
sys.modules["pyodide.ffi"] = ffi

import anvil.server
import anvil.users

user = anvil.users.get_user()
print(None if user is None else (user["username"], user["email"]))
try:
    anvil.server.call("members_only")
except anvil.users.AuthenticationFailed as error:
    print("refused:", error)
"""


@pytest.mark.parametrize(
    "username, email, first_line",
    [
        ("alice", "alice@example.org", "('alice', 'alice@example.org')"),
        ("bob", None, "('bob', None)"),
        (None, None, "None"),
    ],
)
def test_client_get_user_reads_the_boot_data_and_catches_authentication_failed(
    username, email, first_line
):
    # Plain CPython stands in for Pyodide, with the frame's JS module faked.
    refusal = json.dumps(
        {"ok": False, "error": {"type": "AuthenticationFailed", "message": "log in first"}}
    )
    program = textwrap.dedent(CLIENT_PROGRAM).format(username=username, email=email, answer=refusal)
    result = subprocess.run(
        [sys.executable, "-c", program],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT / "static" / "gui-runtime",
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{first_line}\nrefused: log in first\n"
