"""The widget's Users table through the channel services (no sandbox): `get_user()` is the
account's row, made on first use; account columns are read-only, owner columns are not; rows
link to it and search by it; one widget's table tells nothing of another's; forks get the
columns and no rows."""

import pytest

from pyspace.auth.channel import get_user
from pyspace.extensions import db
from pyspace.forks.forking import fork_widget
from pyspace.models import DataRow, DataTable, User, Widget
from pyspace.sandbox.services import RunContext
from pyspace.tables import schema
from pyspace.tables.channel import SERVICES as TABLES
from pyspace.tables.users import users_table
from tests.tables.helpers import make_widget_with_tables


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def visitor(make_user):
    return make_user("ann", email="ann@example.org")


@pytest.fixture
def widget(app, owner):
    return make_widget_with_tables(app, owner, {"notes": [("text", "text")]})


def ask(run: RunContext, op: str, **request) -> dict:
    handler = get_user if op == "get_user" else TABLES[f"tables_{op}"]
    return handler({"op": op, **request}, run)


def test_get_user_is_the_accounts_row_of_a_users_table_made_on_first_use(app, widget, visitor):
    with app.app_context():
        assert users_table(widget) is None
        user = ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")["user"]
        table = users_table(widget)
        assert table is not None and table.name == "users"
        assert [c.name for c in table.columns] == [
            "username",
            "email",
            "enabled",
            "signed_up",
            "last_login",
            "confirmed_email",
        ]
        assert user["table"] == "users"
        values = user["values"]
        assert values["username"] == "ann" and values["email"] == "ann@example.org"
        assert values["enabled"] is True
        assert "$datetime" in values["signed_up"] and "$datetime" in values["last_login"]
        again = ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")["user"]
        assert again["id"] == user["id"]
        assert db.session.get(DataTable, table.id).row_count == 1


def test_get_user_is_none_for_a_visitor_and_makes_no_table(app, widget):
    with app.app_context():
        assert ask(RunContext(widget_id=widget, actor_id=None), "get_user") == {
            "ok": True,
            "user": None,
        }
        assert users_table(widget) is None


def test_get_user_is_none_for_a_disabled_account(app, widget, visitor):
    with app.app_context():
        db.session.get(User, visitor).is_disabled = True
        db.session.commit()
        assert ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")["user"] is None


def test_get_user_answers_for_the_runs_account_whatever_the_request_says(
    app, widget, visitor, owner
):
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=visitor)
        answer = ask(run, "get_user", id=owner, user_id=owner, username="owner")
        assert answer["user"]["values"]["username"] == "ann"


def test_account_columns_follow_the_account_at_the_next_use(app, widget, visitor):
    with app.app_context():
        ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")
        db.session.get(User, visitor).email = "ann@new.example.org"
        db.session.commit()
        user = ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")["user"]
        assert user["values"]["email"] == "ann@new.example.org"


@pytest.mark.parametrize(
    "values",
    [
        {"email": "mallory@example.org"},
        {"enabled": False},
        {"username": "mallory"},
        {"last_login": None},
        {"confirmed_email": True},
        {"signed_up": {"$datetime": "2020-01-01T00:00:00+00:00"}},
    ],
)
def test_writes_to_account_columns_are_refused_with_a_clear_error(app, widget, visitor, values):
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=visitor)
        user = ask(run, "get_user")["user"]
        answer = ask(run, "update_row", table="users", id=user["id"], values=values)
        assert answer["ok"] is False
        assert "come from the person's py.space account" in answer["message"]
        again = ask(run, "get_by_id", table="users", id=user["id"])["row"]["values"]
        assert again["email"] == "ann@example.org" and again["enabled"] is True


def test_owner_columns_of_any_type_are_read_and_written(app, widget, visitor):
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=visitor)
        user = ask(run, "get_user")["user"]
        table = users_table(widget)
        schema.add_column(table, "plan", "text")
        schema.add_column(table, "credits", "number")
        schema.add_column(table, "favourite", "link_single", schema.table_named(widget, "notes"))
        note = ask(run, "add_row", table="notes", values={"text": "hi"})["row"]
        changed = ask(
            run,
            "update_row",
            table="users",
            id=user["id"],
            values={
                "plan": "pro",
                "credits": 5,
                "favourite": {"$row": {"table": "notes", "id": note["id"]}},
            },
        )
        assert changed["ok"], changed
        values = changed["row"]["values"]
        assert values["plan"] == "pro" and values["credits"] == 5
        assert values["favourite"] == {"$row": {"table": "notes", "id": note["id"]}}
        # A new run's get_user() reads them back.
        fresh = ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")["user"]
        assert fresh["values"]["plan"] == "pro"


def test_rows_are_not_added_to_the_users_table_by_code(app, widget, visitor):
    with app.app_context():
        run = RunContext(widget_id=widget, actor_id=visitor)
        ask(run, "get_user")
        answer = ask(run, "add_row", table="users", values={"email": "x@example.org"})
        assert answer["ok"] is False and "accounts that use this widget" in answer["message"]


def test_rows_link_to_the_user_and_search_by_it(app, widget, visitor, owner):
    with app.app_context():
        users = schema.create_table(db.session.get(Widget, widget), "users")
        orders = schema.create_table(db.session.get(Widget, widget), "orders")
        schema.add_column(orders, "owner", "link_single", users)
        schema.add_column(orders, "item", "text")
        ann = RunContext(widget_id=widget, actor_id=visitor)
        me = RunContext(widget_id=widget, actor_id=owner)
        for run, item in ((ann, "tea"), (me, "cake"), (ann, "jam")):
            user = ask(run, "get_user")["user"]
            ref = {"$row": {"table": "users", "id": user["id"]}}
            assert ask(run, "add_row", table="orders", values={"owner": ref, "item": item})["ok"]
        ann_row = ask(ann, "get_user")["user"]
        found = ask(
            ann,
            "search",
            table="orders",
            filters=[
                {
                    "column": "owner",
                    "query": {
                        "op": "eq",
                        "value": {"$row": {"table": "users", "id": ann_row["id"]}},
                    },
                }
            ],
        )
        assert sorted(row["values"]["item"] for row in found["rows"]) == ["jam", "tea"]


def test_one_widgets_users_table_tells_nothing_of_another(app, owner, visitor):
    a = make_widget_with_tables(app, owner, {"notes": [("text", "text")]}, title="A")
    b = make_widget_with_tables(app, owner, {"notes": [("text", "text")]}, title="B")
    with app.app_context():
        ask(RunContext(widget_id=a, actor_id=visitor), "get_user")
        run_b = RunContext(widget_id=b, actor_id=owner)
        ask(run_b, "get_user")
        rows = ask(run_b, "search", table="users")["rows"]
        assert [row["values"]["username"] for row in rows] == ["owner"]
        a_row = db.session.scalar(db.select(DataRow.id).filter_by(account_id=visitor))
        assert ask(run_b, "get_by_id", table="users", id=str(a_row))["row"] is None
        refused = ask(run_b, "update_row", table="users", id=str(a_row), values={})
        assert refused["ok"] is False and refused["error"] == "RowDeleted"


def test_a_fork_gets_the_users_tables_columns_and_no_rows(app, widget, visitor, owner):
    with app.app_context():
        ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")
        schema.add_column(users_table(widget), "plan", "text")
        fork = fork_widget(db.session.get(Widget, widget), db.session.get(User, visitor))
        db.session.commit()
        copied = users_table(fork.id)
        assert copied is not None and copied.row_count == 0
        assert [c.name for c in copied.columns][-1] == "plan"
        assert db.session.scalar(db.select(DataRow.id).filter_by(table_id=copied.id)) is None
        # The fork's first user gets a row in the fork's own table.
        user = ask(RunContext(widget_id=fork.id, actor_id=visitor), "get_user")["user"]
        assert user["values"]["username"] == "ann"


def test_an_imported_plain_users_table_becomes_the_users_table(app, owner, visitor):
    widget = make_widget_with_tables(app, owner, {"notes": [("text", "text")]})
    with app.app_context():
        plain = DataTable(widget_id=widget, name="users")
        db.session.add(plain)
        db.session.commit()
        from pyspace.models import DataColumn

        db.session.add(DataColumn(table_id=plain.id, name="email", type="text"))
        db.session.add(DataColumn(table_id=plain.id, name="plan", type="text"))
        db.session.commit()
        user = ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")["user"]
        assert user["values"]["email"] == "ann@example.org" and user["values"]["plan"] is None
        assert users_table(widget).id == plain.id


def test_account_columns_can_be_neither_renamed_nor_deleted(app, widget, visitor):
    with app.app_context():
        ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")
        table = users_table(widget)
        email = next(c for c in table.columns if c.name == "email")
        with pytest.raises(schema.TableChangeError):
            schema.delete_column(table, email)
        with pytest.raises(schema.TableChangeError):
            schema.rename_column(table, email, "mail")
        with pytest.raises(schema.TableChangeError):
            schema.rename_table(table, "people")


def test_the_data_panel_shows_the_users_table_with_its_rows(app, alice):
    widget_id = alice.create_widget("Shop")
    with app.app_context():
        alice_id = db.session.scalar(db.select(User.id).filter_by(username="alice"))
        ask(RunContext(widget_id=widget_id, actor_id=alice_id), "get_user")
        table_id = users_table(widget_id).id
    panel = alice.client.get(f"/widgets/{widget_id}/tables")
    assert panel.status_code == 200 and ">users<" in panel.get_data(as_text=True)
    rows = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/rows")
    assert rows.status_code == 200 and "alice" in rows.get_data(as_text=True)


@pytest.fixture
def no_rows_left(app_config):
    app_config.update(TABLES_MAX_ROWS=0)


def test_a_full_widget_refuses_get_user_with_a_message(no_rows_left, app, widget, visitor):
    with app.app_context():
        answer = ask(RunContext(widget_id=widget, actor_id=visitor), "get_user")
    assert answer["ok"] is False and "tables are full" in answer["message"]
