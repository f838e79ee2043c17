"""Logging in from widget code (channel services, no sandbox): force_login, logout and
login_with_email change who this widget sees for the rest of the run and the visitor
session's later calls of this widget only; passwords go through the log-in page's throttle."""

import pytest

from pyspace.auth.channel import SERVICES as USERS
from pyspace.extensions import db
from pyspace.models import LoginThrottle, User
from pyspace.sandbox.services import RunContext
from pyspace.tables.channel import SERVICES as TABLES
from pyspace.tables.transactions import MEMO_KEY as TRANSACTION
from tests.conftest import PASSWORD
from tests.tables.helpers import make_widget_with_tables


@pytest.fixture(autouse=True)
def small_throttle(app_config):
    app_config.update(LOGIN_FREE_FAILURES=2, LOGIN_ACCOUNT_FREE_FAILURES=3)


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def widget(app, owner):
    return make_widget_with_tables(app, owner, {"notes": [("text", "text")]})


def ask(run: RunContext, op: str, **request) -> dict:
    handler = USERS.get(op) or TABLES[f"tables_{op}"]
    return handler({"op": op, **request}, run)


def who(run: RunContext) -> str | None:
    user = ask(run, "get_user")["user"]
    return None if user is None else user["values"]["username"]


def row_id_of(app, widget: str, account: int) -> str:
    with app.app_context():
        return ask(RunContext(widget_id=widget, actor_id=account), "get_user")["user"]["id"]


def test_force_login_lasts_for_the_run_and_the_sessions_later_calls_of_this_widget(
    app, owner, widget, make_user
):
    ann = make_user("ann")
    ann_row = row_id_of(app, widget, ann)
    other = make_widget_with_tables(app, owner, {"notes": [("text", "text")]}, title="Other")
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=owner, session_id="s1")
        assert who(run) == "owner"
        assert ask(run, "users_force_login", table="users", id=ann_row)["ok"]
        assert who(run) == "ann"
        # A later call in the same visitor session of the same widget.
        assert who(RunContext(widget_id=widget, actor_id=owner, session_id="s1")) == "ann"
        # Another session, another widget, or the site's account changed: the site's account.
        assert who(RunContext(widget_id=widget, actor_id=owner, session_id="s2")) == "owner"
        assert who(RunContext(widget_id=other, actor_id=owner, session_id="s1")) == "owner"
        assert who(RunContext(widget_id=widget, actor_id=None, session_id="s1")) is None


def test_logout_leaves_a_visitor_in_this_widget_only(app, owner, widget):
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=owner, session_id="s1")
        assert ask(run, "users_logout") == {"ok": True}
        assert who(run) is None
        assert who(RunContext(widget_id=widget, actor_id=owner, session_id="s1")) is None
        assert who(RunContext(widget_id=widget, actor_id=owner, session_id="s2")) == "owner"


def test_force_login_takes_only_rows_of_this_widgets_users_table(app, owner, widget, make_user):
    ann = make_user("ann")
    other = make_widget_with_tables(app, owner, {"notes": [("text", "text")]}, title="Other")
    foreign_row = row_id_of(app, other, ann)
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=owner, session_id="s1")
        note = ask(run, "add_row", table="notes", values={"text": "x"})["row"]["id"]
        who(run)
        for table, row in (("users", foreign_row), ("notes", note), ("users", "nope")):
            answer = ask(run, "users_force_login", table=table, id=row)
            assert answer["ok"] is False and answer["error"] == "TypeError"
        assert who(run) == "owner"


def test_force_login_refuses_a_disabled_accounts_row(app, owner, widget, make_user):
    ann = make_user("ann")
    ann_row = row_id_of(app, widget, ann)
    with app.app_context():
        db.session.get(User, ann).is_disabled = True
        db.session.commit()
        run = RunContext(widget_id=widget, actor_id=owner, session_id="s1")
        answer = ask(run, "users_force_login", table="users", id=ann_row)
        assert answer["error"] == "AccountIsNotEnabled"


def test_login_with_email_logs_in_to_the_widget_with_the_sites_password(
    app, owner, widget, make_user
):
    make_user("ann", email="ann@example.org")
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=None, session_id="s1")
        answer = ask(run, "users_login_with_email", email="Ann@Example.org", password=PASSWORD)
        assert answer["ok"] and answer["user"]["values"]["email"] == "ann@example.org"
        assert who(RunContext(widget_id=widget, actor_id=None, session_id="s1")) == "ann"


@pytest.mark.parametrize("email", ["ann@example.org", "nobody@example.org"])
def test_wrong_passwords_are_throttled_like_the_log_in_page(app, widget, email, make_user):
    make_user("ann", email="ann@example.org")
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=None, session_id="s1")
        errors = [
            ask(run, "users_login_with_email", email=email, password="wrong guess!")["error"]
            for _ in range(4)
        ]
        assert errors[:2] == ["AuthenticationFailed", "AuthenticationFailed"]
        assert errors[2:] == ["TooManyPasswordFailures", "TooManyPasswordFailures"]
        # Even the right password waits now.
        right = ask(run, "users_login_with_email", email=email, password=PASSWORD)
        assert right["error"] == "TooManyPasswordFailures"
        # The failures count under the account's key the log-in page shares.
        name = "ann" if email.startswith("ann") else email
        counted = db.session.get(LoginThrottle, f"untrusted|account:{name}")
        assert counted is not None and counted.failures == 2


def test_login_with_email_refuses_a_disabled_account(app, widget, make_user):
    make_user("ann", email="ann@example.org", is_disabled=True)
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=None)
        answer = ask(run, "users_login_with_email", email="ann@example.org", password=PASSWORD)
        assert answer["error"] == "AccountIsNotEnabled"


def test_logging_in_is_refused_inside_a_data_table_transaction(app, widget, make_user):
    make_user("ann", email="ann@example.org")
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=None)
        run.memo[TRANSACTION] = object()
        answer = ask(run, "users_login_with_email", email="ann@example.org", password="x")
        assert answer["ok"] is False and "outside data-table transactions" in answer["message"]
