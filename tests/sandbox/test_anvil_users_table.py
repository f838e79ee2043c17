"""`anvil.users` with the widget's Users table, in real sandboxed runs and GUI calls:
`get_user()['email']`, owner columns written and read, account columns refused, rows linked
to the user and searched by it, and `require_user=` functions reading an owner column."""

import pytest

from pyspace.extensions import db
from pyspace.models import User
from pyspace.tables import schema
from pyspace.tables.users import users_table
from tests.auth.test_users_api import frame_token, gui_call
from tests.sandbox.helpers import ROOMY_LIMITS, run_json

HEADER = "import anvil.users\nimport anvil.server\nfrom anvil.tables import app_tables\n"

PLAN_AND_ORDERS = (
    HEADER
    + """
user = anvil.users.get_user()
print(user["email"], user["enabled"], user["plan"])
user["plan"] = "pro"
try:
    user["email"] = "mallory@example.org"
except Exception as error:
    print(type(error).__name__, "py.space account" in str(error))
app_tables.orders.add_row(owner=user, item="tea")
print(anvil.users.get_user()["plan"], [o["item"] for o in app_tables.orders.search(owner=user)])
print(app_tables.users.get(email="alice@example.org") == user)
"""
)


@pytest.fixture(autouse=True)
def limits(app_config):
    app_config.update(ROOMY_LIMITS)


def make_tables(app, widget_id: str) -> None:
    """The Users table with a `plan` column, and `orders` linking to it."""
    from pyspace.models import Widget

    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        users = schema.create_table(widget, "users")
        schema.add_column(users, "plan", "text")
        orders = schema.create_table(widget, "orders")
        schema.add_column(orders, "owner", "link_single", users)
        schema.add_column(orders, "item", "text")


def give_email(app, username: str, email: str) -> None:
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username=username)).email = email
        db.session.commit()


def test_user_row_has_email_takes_owner_columns_refuses_account_columns_and_links(app, alice):
    give_email(app, "alice", "alice@example.org")
    widget_id = alice.create_widget("Shop", server_code=PLAN_AND_ORDERS)
    make_tables(app, widget_id)
    answer = run_json(alice, widget_id)
    assert answer["error"] is None, answer
    assert answer["stdout"].splitlines() == [
        "alice@example.org True None",
        "TableError True",
        "pro ['tea']",
        "True",
    ]
    with app.app_context():
        assert users_table(widget_id).row_count == 1


PLANS = (
    HEADER
    + """
@anvil.server.callable(require_user=lambda u: u["plan"] == "pro")
def pro_only():
    return "welcome " + anvil.users.get_user()["username"]

@anvil.server.callable(require_user=True)
def upgrade():
    anvil.users.get_user()["plan"] = "pro"
"""
)


def test_require_user_function_reads_an_owner_column(app, alice, bob):
    widget_id = alice.create_widget("Plans", "gui", server_code=PLANS, visibility="public")
    make_tables(app, widget_id)
    token = frame_token(bob, widget_id)["callToken"]
    refused = gui_call(app, token, widget_id, "pro_only")
    assert refused["ok"] is False and refused["error"]["type"] == "PermissionDenied"
    assert gui_call(app, token, widget_id, "upgrade") == {"ok": True, "result": None}
    assert gui_call(app, token, widget_id, "pro_only") == {"ok": True, "result": "welcome bob"}
    # Alice's row is her own: bob's upgrade did not make her "pro".
    alice_token = frame_token(alice, widget_id)["callToken"]
    assert gui_call(app, alice_token, widget_id, "pro_only")["ok"] is False


LOGINS = (
    HEADER
    + """
@anvil.server.callable
def who():
    user = anvil.users.get_user()
    return user and user["username"]

@anvil.server.callable
def log_in(email, password):
    try:
        return anvil.users.login_with_email(email, password)["username"]
    except anvil.users.AuthenticationFailed as error:
        return type(error).__name__

@anvil.server.callable
def become(email):
    anvil.users.force_login(app_tables.users.get(email=email))
    return anvil.users.get_user()["username"]

@anvil.server.callable
def log_out():
    anvil.users.logout()
    return anvil.users.get_user()
"""
)


def call(app, token: str, widget_id: str, fn: str, *args) -> dict:
    import json

    response = app.test_client().post(
        f"/widgets/{widget_id}/call/{fn}",
        headers={"X-Call-Token": token},
        data=json.dumps({"args": list(args), "kwargs": {}}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_widget_log_ins_last_for_the_visitor_session_and_leave_the_site_log_in_alone(
    app, alice, bob, make_client
):
    give_email(app, "bob", "bob@example.org")
    widget_id = alice.create_widget("Logins", "gui", server_code=LOGINS, visibility="public")
    bob_token = frame_token(bob, widget_id)["callToken"]
    assert call(app, bob_token, widget_id, "who")["result"] == "bob"  # bob's row is made
    visitor = make_client()
    token = frame_token(visitor, widget_id)["callToken"]
    assert call(app, token, widget_id, "who") == {"ok": True, "result": None}
    wrong = call(app, token, widget_id, "log_in", "bob@example.org", "not his password")
    assert wrong == {"ok": True, "result": "AuthenticationFailed"}
    from tests.conftest import PASSWORD

    assert call(app, token, widget_id, "log_in", "bob@example.org", PASSWORD)["result"] == "bob"
    assert call(app, token, widget_id, "who")["result"] == "bob"
    # The site itself still sees an anonymous visitor.
    assert "Log in" in visitor.client.get("/").get_data(as_text=True)
    assert call(app, token, widget_id, "log_out") == {"ok": True, "result": None}
    assert call(app, token, widget_id, "who")["result"] is None
    # The owner's code may log a visitor in as a row of its Users table.
    assert call(app, token, widget_id, "become", "bob@example.org")["result"] == "bob"
    # Bob's own session of the widget never changed.
    assert call(app, bob_token, widget_id, "who")["result"] == "bob"
